import { strict as assert } from 'node:assert';
import { amqpTargets, amqpUrlListProblem, amqpVhost, splitAmqpUrls } from '../../../src/config/amqp-urls';
import { loadConfig } from '../../../src/config/load';
import { ConfigError } from '../../../src/errors';

describe('AMQP_URL with several brokers', () => {
  it('splits a comma-separated list where the next URL begins, keeping a comma inside a password', () => {
    assert.deepEqual(splitAmqpUrls('amqp://u:p@a:5672/v'), ['amqp://u:p@a:5672/v']);
    assert.deepEqual(splitAmqpUrls('amqp://u:p@a:5672/v, amqps://u:p@b:5671/v,amqp://u:p,w@c/v,'), ['amqp://u:p@a:5672/v', 'amqps://u:p@b:5671/v', 'amqp://u:p,w@c/v']);
  });

  it('names each broker by host and port, never by its credentials', () => {
    assert.equal(amqpTargets('amqp://guest:s3cret@mq.internal:5672/prod'), 'mq.internal:5672');
    assert.equal(amqpTargets('amqp://u:s3cret@a/prod,amqps://u:s3cret@b/prod'), 'a:5672, b:5671');
  });

  it('reads the vhost of the list', () => {
    assert.equal(amqpVhost('amqp://u:p@a:5672/anki-test%2F1,amqp://u:p@b:5672/anki-test%2F1'), 'anki-test/1');
    assert.equal(amqpVhost('amqp://u:p@a:5672'), '/');
  });

  it('accepts one or several amqp(s) URLs of one vhost and says what is wrong with any other, without the URL', () => {
    assert.equal(amqpUrlListProblem('amqp://u:p@a:5672/v,amqps://u:p@b/v'), undefined);
    assert.match(amqpUrlListProblem('amqp://u:p@a/v,http://u:p@b/v')!, /broker 2 of 2 must start with amqp/);
    assert.match(amqpUrlListProblem('amqp://u:p@a/v,amqp://u:p@b/w')!, /broker 2 of 2 names another vhost/);
    assert.match(amqpUrlListProblem('not a url')!, /the broker URL is not a URL/);
    assert.match(amqpUrlListProblem(' , ')!, /at least one/);
  });

  it('refuses a bad list at start-up with one line naming the key and not the password', () => {
    assert.throws(() => loadConfig({ env: { NODE_ENV: 'test', AMQP_URL: 'amqp://u:hunter2-secret@a/v,amqp://u:hunter2-secret@b/w' } }), (err: unknown) => {
      assert.ok(err instanceof ConfigError);
      assert.match(err.message, /amqp\.url/);
      assert.doesNotMatch(err.message, /hunter2/);
      return true;
    });
    assert.equal(loadConfig({ env: { NODE_ENV: 'test', AMQP_URL: 'amqp://u:p@a/v,amqp://u:p@b/v' } }).amqp.url, 'amqp://u:p@a/v,amqp://u:p@b/v');
  });

  it('leaves the quorum group size to the broker unless set', () => {
    assert.equal(loadConfig({ env: { NODE_ENV: 'test' } }).amqp.quorumGroupSize, 0);
    assert.equal(loadConfig({ env: { NODE_ENV: 'test', AMQP_QUORUM_GROUP_SIZE: '5' } }).amqp.quorumGroupSize, 5);
  });
});
