/**
 * Preloaded (`node --require`) into the processes the packaging test starts: refuses every TCP
 * connection to a host other than loopback, and appends what was attempted to the file named by
 * DROVER_OFFLINE_GUARD_LOG, so a test fails even when the caller swallows the error.
 *
 * CommonJS because `--require` loads it before any module system choice is made.
 */
'use strict';

const net = require('node:net');
const { appendFileSync } = require('node:fs');

const LOOPBACK = /^(localhost|127(\.\d{1,3}){3}|::1|::ffff:127(\.\d{1,3}){3})$/i;

/** The `{ host, port, path }` a `Socket#connect` call was given, in any of its call forms. */
function target(args) {
  const first = Array.isArray(args[0]) ? args[0][0] : args[0];
  if (first !== null && typeof first === 'object') return first;
  return { port: first, host: typeof args[1] === 'string' ? args[1] : undefined };
}

const connect = net.Socket.prototype.connect;
net.Socket.prototype.connect = function guardedConnect(...args) {
  const { host, port, path } = target(args);
  // `path` is a Unix socket (local); http agents pass `path: null` for TCP.
  if (path == null && !LOOPBACK.test(String(host ?? 'localhost'))) {
    const attempt = `${host}:${port}`;
    if (process.env.DROVER_OFFLINE_GUARD_LOG) {
      appendFileSync(process.env.DROVER_OFFLINE_GUARD_LOG, `${process.pid} ${attempt}\n`);
    }
    const error = new Error(
      `offline guard: connection to ${attempt} refused (packaging must not use the network)`,
    );
    error.code = 'ECONNREFUSED';
    process.nextTick(() => this.destroy(error));
    return this;
  }
  return connect.apply(this, args);
};
