import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { DeleteCommand, DynamoDBDocumentClient, GetCommand, PutCommand } from '@aws-sdk/lib-dynamodb';
import { type DynamoEngine, startDynamo } from '../../../local/engines';
import { createEventualTable } from '../../../local/eventual-table';
import { type ReplicaTable, Replicator, writtenKeys } from '../../../local/replicator';
import { eventually } from './platform-support';

// The local stand-in for global-table replication, on real DynamoDB API servers.
const engines: DynamoEngine[] = [];
let west: ReplicaTable;
let central: ReplicaTable;
let replicas: ReplicaTable[];
let outsider: ReplicaTable;
let replicator: Replicator;

async function table(region: string): Promise<ReplicaTable> {
  const engine = await startDynamo();
  engines.push(engine);
  const client = new DynamoDBClient({
    endpoint: engine.endpoint,
    region,
    credentials: { accessKeyId: 'l', secretAccessKey: 'l' },
  });
  await createEventualTable(client, 'shared-name');
  return { region, documents: DynamoDBDocumentClient.from(client), tableName: 'shared-name' };
}

const put = (replica: ReplicaTable, sk: string, value: string) =>
  replica.documents.send(new PutCommand({ TableName: replica.tableName, Item: { pk: 'P', sk, value } }));
const read = async (replica: ReplicaTable, sk: string) =>
  (await replica.documents.send(new GetCommand({ TableName: replica.tableName, Key: { pk: 'P', sk } }))).Item?.value;

beforeAll(async () => {
  west = await table('eu-west-1');
  central = await table('eu-central-1');
  replicas = [west, central];
  outsider = await table('us-east-1');
  replicator = new Replicator({ jurisdiction: 'eu', replicas, delayMs: 100, pollMs: 30 });
  replicator.start();
});

afterAll(async () => {
  await replicator?.stop();
  await Promise.all(engines.map((engine) => engine.close()));
});

test('a write reaches the other region after the delay, never a table outside the jurisdiction', async () => {
  await put(west, 'a', 'from-west');
  await eventually(async () => expect(await read(central, 'a')).toBe('from-west'), 5000, 20);
  expect(await read(outsider, 'a')).toBeUndefined();
});

test('the later write to one item wins everywhere, and deletes replicate', async () => {
  await put(west, 'b', 'first');
  await eventually(async () => expect(await read(central, 'b')).toBe('first'), 5000, 20);
  await put(central, 'b', 'second');
  await eventually(async () => expect(await read(west, 'b')).toBe('second'), 5000, 20);
  await central.documents.send(new DeleteCommand({ TableName: central.tableName, Key: { pk: 'P', sk: 'b' } }));
  await eventually(async () => expect(await read(west, 'b')).toBeUndefined(), 5000, 20);
});

test('paused, it keeps every write and delivers them on resume', async () => {
  replicator.pause();
  await put(west, 'c', 'west-while-paused');
  await put(central, 'd', 'central-while-paused');
  await new Promise((resolve) => setTimeout(resolve, 400));
  expect(await read(central, 'c')).toBeUndefined();
  expect(replicator.backlog).toBeGreaterThanOrEqual(2);
  replicator.resume();
  await eventually(
    async () => {
      expect(await read(central, 'c')).toBe('west-while-paused');
      expect(await read(west, 'd')).toBe('central-while-paused');
    },
    5000,
    20,
  );
});

test('after its first poll it reads only the items written since, never whole tables again', async () => {
  const scans: string[] = [];
  for (const replica of replicas) {
    replica.documents.middlewareStack.add(
      (next, context) => async (args) => {
        if (context.commandName === 'ScanCommand') scans.push(replica.region);
        return next(args);
      },
      { step: 'initialize', name: 'countScans' },
    );
  }
  try {
    await put(west, 'streamed', 'captured');
    await eventually(async () => expect(await read(central, 'streamed')).toBe('captured'), 5000, 20);
    await new Promise((resolve) => setTimeout(resolve, 200)); // several more polls
    expect(scans).toEqual([]);
  } finally {
    for (const replica of replicas) replica.documents.middlewareStack.remove('countScans');
  }
});

test('the write capture notes the keys of writes to its own table only', () => {
  const key = (pk: string, sk: string) => ({ pk: { S: pk }, sk: { S: sk } });
  expect(writtenKeys('PutItemCommand', { TableName: 't', Item: { ...key('P', 'a'), n: { N: '1' } } }, 't')).toEqual([
    '["P","a"]',
  ]);
  expect(writtenKeys('UpdateItemCommand', { TableName: 't', Key: key('P', 'b') }, 't')).toEqual(['["P","b"]']);
  expect(writtenKeys('DeleteItemCommand', { TableName: 't', Key: key('P', 'c') }, 't')).toEqual(['["P","c"]']);
  expect(
    writtenKeys(
      'BatchWriteItemCommand',
      {
        RequestItems: {
          t: [{ PutRequest: { Item: key('P', 'd') } }, { DeleteRequest: { Key: key('P', 'e') } }],
          other: [{ PutRequest: { Item: key('P', 'f') } }],
        },
      },
      't',
    ),
  ).toEqual(['["P","d"]', '["P","e"]']);
  expect(writtenKeys('GetItemCommand', { TableName: 't', Key: key('P', 'g') }, 't')).toEqual([]);
  expect(writtenKeys('PutItemCommand', { TableName: 'other', Item: key('P', 'h') }, 't')).toEqual([]);
});
