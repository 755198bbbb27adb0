/**
 * Imported first by every entry point, before anything uses libuv's thread pool (4 threads by
 * default). node-sqlite3 runs each statement on that pool and SQLite's busy_timeout sleeps inside
 * the statement: with 4 pooled connections waiting for the write lock (and scrypt hashing on the
 * same pool), the connection holding the lock could find no thread for its next statement (the
 * audit row and COMMIT of a transfer) until every waiter timed out. 16 threads leave room for it.
 * A value set in the environment wins.
 */
process.env.UV_THREADPOOL_SIZE ??= '16';
export {};
