import { strict as assert } from 'node:assert';
import { checkKnownOptions, intOption, parseClientArgs, splitClientCommand, UsageError } from '../../../src/cli/client/args';

describe('client command line', () => {
  it('splits positionals, options (last one wins) and flags', () => {
    const a = parseClientArgs(['ID', '--type', 'echo', '--type=other', '--json', '--wait', '-h']);
    assert.deepEqual(a.positionals, ['ID']);
    assert.deepEqual([...a.options], [['type', 'other']]);
    assert.deepEqual([...a.flags].sort(), ['help', 'json', 'wait']);
  });

  it('takes the next argument as the value even when it starts with a dash', () => {
    assert.equal(parseClientArgs(['--priority', '-1']).options.get('priority'), '-1');
    assert.equal(parseClientArgs(['--payload', '--json']).options.get('payload'), '--json');
  });

  it('keeps everything after -- as positionals', () => {
    assert.deepEqual(parseClientArgs(['--', '--json', 'x']).positionals, ['--json', 'x']);
  });

  it('refuses a value on a flag and an option without a value', () => {
    assert.throws(() => parseClientArgs(['--json=yes']), (err: Error) => err instanceof UsageError && err.message === '--json takes no value');
    assert.throws(() => parseClientArgs(['--type']), (err: Error) => err instanceof UsageError && err.message === '--type needs a value');
  });

  it('refuses an option by name, whether no command reads it or only another command does', () => {
    const refusedAs = (message: string) => (err: Error) => err instanceof UsageError && err.message === message;
    assert.throws(() => checkKnownOptions(parseClientArgs(['--stauts', 'done']), ['status']), refusedAs('unknown option --stauts'));
    assert.throws(() => checkKnownOptions(parseClientArgs(['--type', 'echo']), ['poll-ms']), refusedAs('unknown option --type'));
    assert.doesNotThrow(() => checkKnownOptions(parseClientArgs(['--url', 'u', '--token', 't', '--status', 'done']), ['status']));
  });

  it('reads integer options within bounds', () => {
    assert.equal(intOption(parseClientArgs(['--limit', '20']), 'limit', 1, 1000), 20);
    assert.equal(intOption(parseClientArgs([]), 'limit', 1, 1000), undefined);
    assert.throws(() => intOption(parseClientArgs(['--limit', '2.5']), 'limit', 1, 1000), /--limit must be an integer from 1 to 1000/);
  });

  it('finds the client command after options and their values', () => {
    assert.deepEqual(splitClientCommand(['--url', 'http://x', 'get', 'ID', '--json']), { command: 'get', args: ['--url', 'http://x', 'ID', '--json'] });
    assert.deepEqual(splitClientCommand(['--json', 'nodes']), { command: 'nodes', args: ['--json'] });
    assert.deepEqual(splitClientCommand(['--url=http://x', '-h', 'list']), { command: 'list', args: ['--url=http://x', '-h'] });
    assert.equal(splitClientCommand(['standalone', '--port', '3031']), undefined);
    assert.equal(splitClientCommand(['--config', 'submit']), undefined, 'the value of an option is not a command');
    assert.equal(splitClientCommand([]), undefined);
  });
});
