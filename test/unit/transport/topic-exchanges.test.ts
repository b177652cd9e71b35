import { strict as assert } from 'node:assert';
import { TopicExchanges, topicMatches } from '../../../src/transport/topic-exchanges';

describe('topic exchanges (in-process)', () => {
  describe('topic patterns', () => {
    it('matches words like a RabbitMQ topic exchange', () => {
      assert.ok(topicMatches('heartbeat.ki.*', 'heartbeat.ki.k1'));
      assert.ok(!topicMatches('heartbeat.ki.*', 'heartbeat.ki'));
      assert.ok(!topicMatches('heartbeat.ki.*', 'heartbeat.ki.k1.extra'));
      assert.ok(topicMatches('heartbeat.#', 'heartbeat'));
      assert.ok(topicMatches('heartbeat.#', 'heartbeat.an.a1'));
      assert.ok(topicMatches('#', 'anything.at.all'));
      assert.ok(topicMatches('#.k1', 'heartbeat.ki.k1'));
      assert.ok(topicMatches('a.#.z', 'a.z'));
      assert.ok(topicMatches('a.#.z', 'a.b.c.z'));
      assert.ok(!topicMatches('a.#.z', 'a.b.c'));
      assert.ok(topicMatches('*.*', 'x.y'));
      assert.ok(!topicMatches('cancel.k1', 'cancel.k10'));
      assert.ok(topicMatches('a.#.#.b', 'a.b'));
    });
  });

  describe('TopicExchanges', () => {
    it('routes nowhere, rather than failing, on a declared exchange without bindings', () => {
      const x = new TopicExchanges();
      x.declare('control');
      assert.deepEqual(x.route('control', 'any.key'), []);
    });

    it('says an exchange that was never declared does not exist', () => {
      assert.equal(new TopicExchanges().route('nope', 'a'), undefined);
    });

    it('declares the exchange on first bind and keeps a repeated binding once', () => {
      const x = new TopicExchanges();
      x.bind('control', 'q1', 'a.*');
      x.bind('control', 'q1', 'a.*');
      assert.deepEqual(x.route('control', 'a.b'), ['q1']);
    });

    it('routes to each matching queue once, in binding order, even when several of its patterns match', () => {
      const x = new TopicExchanges();
      x.bind('control', 'q2', 'a.#');
      x.bind('control', 'q1', 'a.b');
      x.bind('control', 'q2', '*.b');
      x.bind('control', 'q3', 'c.#');
      assert.deepEqual(x.route('control', 'a.b'), ['q2', 'q1']);
    });

    it('keeps exchanges apart', () => {
      const x = new TopicExchanges();
      x.bind('one', 'q1', '#');
      x.bind('two', 'q2', '#');
      assert.deepEqual(x.route('one', 'k'), ['q1']);
      assert.deepEqual(x.route('two', 'k'), ['q2']);
    });

    it('drops every binding of an unbound queue and keeps the exchanges', () => {
      const x = new TopicExchanges();
      x.bind('one', 'q1', 'a');
      x.bind('one', 'q2', 'a');
      x.bind('two', 'q1', '#');
      x.unbindQueue('q1');
      assert.deepEqual(x.route('one', 'a'), ['q2']);
      assert.deepEqual(x.route('two', 'a'), []);
    });
  });
});
