import { DynamoDBClient, GetItemCommand } from '@aws-sdk/client-dynamodb';
import { DynamoDBDocumentClient, UpdateCommand } from '@aws-sdk/lib-dynamodb';
import { CallRecorder, runAs } from '../../../local/rehearsal/recorder';

const SCOPE = { region: 'eu-west-1', function: 'api:cart' };
const answered = () => Promise.resolve({ Item: { pk: { S: 'USER#a' } } });

let recorder: CallRecorder | undefined;
afterEach(() => recorder?.uninstall());

test('an SDK command under a function scope is recorded with its operation, input, region and AWS endpoint', async () => {
  recorder = new CallRecorder({ sdk: answered }).install();
  const client = new DynamoDBClient({ region: 'eu-west-1', credentials: { accessKeyId: 'a', secretAccessKey: 'b' } });
  const input = { TableName: 'shop', Key: { pk: { S: 'USER#a' }, sk: { S: 'PROFILE' } } };
  const answer = await runAs(SCOPE, () => client.send(new GetItemCommand(input)));
  expect(answer.Item).toEqual({ pk: { S: 'USER#a' } });
  expect(recorder.calls).toEqual([
    {
      scope: SCOPE,
      observation: {
        kind: 'sdk',
        client: 'DynamoDBClient',
        operation: 'GetItem',
        input,
        region: 'eu-west-1',
        endpoint: 'dynamodb.eu-west-1.amazonaws.com:443',
      },
    },
  ]);
});

test('a document client is recorded as the operation it sends, once per distinct call', async () => {
  recorder = new CallRecorder({ sdk: answered }).install();
  const documents = DynamoDBDocumentClient.from(new DynamoDBClient({ region: 'eu-central-1' }));
  const update = new UpdateCommand({ TableName: 'shop', Key: { pk: 'USER#a', sk: 'CART' } });
  await runAs(SCOPE, async () => {
    await documents.send(update);
    await documents.send(update);
  });
  expect(recorder.calls.map((call) => call.observation.kind === 'sdk' && call.observation.operation)).toEqual([
    'UpdateItem',
  ]);
});

test('calls outside any function scope are not recorded, and uninstalling restores the SDK', async () => {
  recorder = new CallRecorder({ sdk: answered }).install();
  const client = new DynamoDBClient({ region: 'eu-west-1' });
  await client.send(new GetItemCommand({ TableName: 't', Key: {} }));
  expect(recorder.calls).toEqual([]);
  expect(client.middlewareStack.identify().some((name) => name.startsWith('rehearsalRecorder'))).toBe(true);
  expect(() => new CallRecorder().install()).toThrow('a CallRecorder is already installed');
  recorder.uninstall();
  // The client keeps working without the recorder's middleware, and can be recorded again.
  expect(client.middlewareStack.identify().some((name) => name.startsWith('rehearsalRecorder'))).toBe(false);
  recorder = new CallRecorder({ sdk: answered }).install();
  await runAs(SCOPE, () => client.send(new GetItemCommand({ TableName: 'again', Key: {} })));
  expect(recorder.calls).toHaveLength(1);
  await runAs(SCOPE, () =>
    new DynamoDBClient({ region: 'eu-west-1' }).send(new GetItemCommand({ TableName: 't', Key: {} })),
  );
  expect(recorder.calls).toHaveLength(2);
});

test('a fetch under a scope is recorded by host and port, and a stand-in may answer it', async () => {
  recorder = new CallRecorder({
    fetch: (url) => (url.hostname === 'api.example.com' ? new Response('ok') : undefined),
  }).install();
  const text = await runAs(SCOPE, async () => (await fetch('https://api.example.com/v1/x')).text());
  expect(text).toBe('ok');
  expect(recorder.calls.map((call) => call.observation)).toEqual([
    { kind: 'http', host: 'api.example.com', port: 443 },
  ]);
});
