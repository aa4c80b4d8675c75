import type { ErrorCode } from '../bindings/api';

/** A short headline for each error code; the host's own message is shown under it. */
export const ERROR_HEADLINES: Record<ErrorCode, string> = {
  invalid_input: 'That didn’t look right',
  not_found: 'Not found',
  no_school: 'No school is open',
  unauthorized: 'This page isn’t signed in to the studio',
  forbidden: 'You don’t have permission to do that',
  payload_too_large: 'That was too large to send',
  conflict: 'That cannot be done right now',
  database_too_new: 'This school was saved by a newer version of Lectern',
  not_a_database: 'That file isn’t a Lectern school',
  foreign_database: 'That database belongs to another program',
  database_corrupt: 'The school’s database is damaged',
  database_locked: 'The school is open in another window',
  disk_full: 'The disk is full',
  storage: 'The school couldn’t be read or saved',
  internal: 'Something went wrong',
  feed_unreachable: 'The shop could not be reached',
  feed_refused: 'The shop refused the request',
  feed_invalid: 'The shop did not send purchases',
  over_capacity: 'The class is full on this connection',
  too_many_connections: 'Too many connections from this network; trying again shortly',
  private_address: 'That server is on this computer or a private network',
};
