import { describe, expect, it } from 'vitest';
import { dockerError, statusOf } from '../../src/services/docker/transport.js';

// Every failure of a Docker call becomes a kind the caller can switch on (issue #15: decisions on the
// status code or errno, never on message text).

const E = 'unix:///run/d.sock';
const err = (props: Record<string, unknown>, message = 'x') => Object.assign(new Error(message), props);

describe('dockerError', () => {
  it.each([
    [err({ code: 'ENOENT' }), 'unavailable', `no Docker engine socket at ${E} (is dockerd running?)`],
    [err({ code: 'ECONNREFUSED' }), 'unavailable', `Docker engine at ${E} refused the connection (is dockerd running?)`],
    [err({ code: 'EACCES' }), 'auth', `permission denied on ${E} (run as root or join the docker group)`],
    [Object.assign(new Error('t'), { name: 'TimeoutError' }), 'timeout', `Docker engine at ${E} did not answer inspect web in time`],
    [err({ statusCode: 404, json: { message: 'No such container: web' } }), 'not-found', 'inspect web: No such container: web'],
    [err({ statusCode: 404 }), 'not-found', 'inspect web: not found'],
    [err({ statusCode: 500, json: { message: 'boom' } }), 'unknown', `Docker engine at ${E}: inspect web failed: boom`],
    // A message that merely says 404 is not a 404.
    [err({}, '(HTTP code 404) no such container'), 'unknown', `Docker engine at ${E}: inspect web failed: (HTTP code 404) no such container`],
  ])('%s → %s', (e, kind, message) => {
    expect(dockerError(e, E, 'inspect web')).toEqual({ kind, message });
  });
});

describe('statusOf', () => {
  it.each([
    [err({ statusCode: 304 }), 304],
    [err({ statusCode: '304' }), undefined],
    [err({}, '(HTTP code 304) container already stopped'), undefined],
    [null, undefined],
    ['text', undefined],
  ])('%s → %s', (e, status) => {
    expect(statusOf(e)).toBe(status);
  });
});
