import { strict as assert } from 'node:assert';
import { parseArgs } from '../../../src/cli/args';

describe('node command line', () => {
  it('finds the command, --help and --config, and passes the other options on to the config', () => {
    const a = parseArgs(['principal', '--config', 'c.json', '--port', '3031', '--node-id=p1']);
    assert.equal(a.command, 'principal');
    assert.equal(a.help, false);
    assert.equal(a.configFile, 'c.json');
    assert.deepEqual(a.rest, ['--port', '3031', '--node-id', 'p1']);
    assert.deepEqual([...a.options], [['port', '3031'], ['node-id', 'p1']]);
  });

  it('takes --config=FILE and -h', () => {
    const a = parseArgs(['-h', '--config=x.json', 'ki']);
    assert.equal(a.help, true);
    assert.equal(a.configFile, 'x.json');
    assert.equal(a.command, 'ki');
  });

  it('treats an option followed by another option, or by nothing, as a flag', () => {
    const a = parseArgs(['ki', '--probe', '--port', '1', '--verbose']);
    assert.equal(a.options.get('probe'), true);
    assert.equal(a.options.get('verbose'), true);
    assert.deepEqual(a.rest, ['--port', '1']);
  });

  it('takes the word after an unknown option as its value, not as the command', () => {
    const a = parseArgs(['--amqp-prefix', 'p', '--whatever', 'w', 'token', '--sub', 'alice', '--role', 'admin', 'extra']);
    assert.equal(a.command, 'token');
    assert.equal(a.options.get('whatever'), 'w');
    assert.equal(a.options.get('sub'), 'alice');
    assert.deepEqual(a.rest, ['--amqp-prefix', 'p', '--whatever', 'w', '--sub', 'alice', '--role', 'admin', 'extra']);
  });

  it('takes a negative number after an option as its value', () => {
    assert.equal(parseArgs(['token', '--ttl', '-5']).options.get('ttl'), '-5');
  });

  it('leaves the command undefined when there is none', () => {
    assert.equal(parseArgs(['--port', '1']).command, undefined);
  });

  it('takes --version as a flag, before or after a command', () => {
    assert.equal(parseArgs(['--version']).version, true);
    assert.equal(parseArgs(['ki', '--version']).version, true);
    assert.equal(parseArgs(['ki']).version, false);
  });
});
