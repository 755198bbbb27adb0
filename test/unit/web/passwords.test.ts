import { expect } from 'chai';
import { AppError } from '#shared/errors.js';
import { Limiter } from '#web/auth/hash-limiter.js';
import { createPasswordHasher } from '#web/auth/passwords.js';

// Low cost keeps the unit tier fast; the parameters themselves are what is under test.
const cheap = { logN: 10, r: 8, p: 1 };
const limits = { concurrency: 2, maxQueue: 16, maxWaitMs: 5_000 };

describe('password hashing (scrypt-kdf)', () => {
  const hasher = createPasswordHasher(cheap, limits);

  it('verifies the right password and refuses a wrong one', async () => {
    const hash = await hasher.hash('password123');
    expect(hash).to.have.length.below(256);
    expect(await hasher.verify(hash, 'password123')).to.equal(true);
    expect(await hasher.verify(hash, 'password124')).to.equal(false);
  });

  it('salts: the same password hashes differently twice', async () => {
    expect(await hasher.hash('same-password')).to.not.equal(await hasher.hash('same-password'));
  });

  it('flags hashes made with other parameters for re-hashing', async () => {
    const hash = await hasher.hash('password123');
    expect(hasher.needsRehash(hash)).to.equal(false);
    const stronger = createPasswordHasher({ logN: 11, r: 8, p: 1 }, limits);
    expect(stronger.needsRehash(hash)).to.equal(true);
    expect(await stronger.verify(hash, 'password123')).to.equal(true);
  });

  it('never matches a malformed stored hash', async () => {
    expect(await hasher.verify('not-a-hash', 'password123')).to.equal(false);
    expect(hasher.needsRehash('not-a-hash')).to.equal(true);
  });
});

describe('Limiter (bounded hashing queue)', () => {
  const deferred = () => {
    let resolve!: () => void;
    const promise = new Promise<void>((r) => (resolve = r));
    return { promise, resolve };
  };

  it('runs at most `concurrency` tasks at once and queues the rest in order', async () => {
    const limiter = new Limiter(1, 5, 1_000);
    const gate = deferred();
    const order: number[] = [];
    const first = limiter.run(async () => {
      await gate.promise;
      order.push(1);
    });
    const second = limiter.run(async () => {
      order.push(2);
    });
    expect(limiter.active).to.equal(1);
    expect(limiter.waiting).to.equal(1);
    gate.resolve();
    await Promise.all([first, second]);
    expect(order).to.deep.equal([1, 2]);
  });

  it('answers 503 when the queue is full', async () => {
    const limiter = new Limiter(1, 1, 1_000);
    const gate = deferred();
    const running = limiter.run(() => gate.promise);
    const queued = limiter.run(() => Promise.resolve());
    const err = await limiter.run(() => Promise.resolve()).catch((e: unknown) => e);
    expect(err).to.be.instanceOf(AppError);
    expect((err as AppError).status).to.equal(503);
    gate.resolve();
    await Promise.all([running, queued]);
  });

  it('answers 503 when the wait exceeds its bound', async () => {
    const limiter = new Limiter(1, 5, 50);
    const gate = deferred();
    const running = limiter.run(() => gate.promise);
    const err = await limiter.run(() => Promise.resolve()).catch((e: unknown) => e);
    expect((err as AppError).status).to.equal(503);
    expect(limiter.waiting).to.equal(0);
    gate.resolve();
    await running;
  });
});
