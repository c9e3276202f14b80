import * as path from 'node:path';
import { Template } from 'aws-cdk-lib/assertions';
import * as lambda from 'aws-cdk-lib/aws-lambda';
import { esbuildOptions } from '../../../lib/functions/esbuild-bundling';
import { NodeFunction } from '../../../lib/functions/node-function';
import { oneStack } from '../../support/one-stack';

const ENTRY = path.join(__dirname, '..', '..', '..', 'lambda', 'cart', 'handler.ts');

describe('NodeFunction', () => {
  test('given an entry, it is a Node.js 24 function on arm64 logging JSON, handler index.handler', () => {
    // given
    const { stack } = oneStack();
    // when
    new NodeFunction(stack, 'Cart', { entry: ENTRY, memorySize: 512 });
    // then
    Template.fromStack(stack).hasResourceProperties('AWS::Lambda::Function', {
      Runtime: 'nodejs24.x',
      Architectures: ['arm64'],
      Handler: 'index.handler',
      MemorySize: 512,
      LoggingConfig: { LogFormat: 'JSON' },
    });
  });

  test('function options it does not fix pass through, and the ones it fixes win', () => {
    // given
    const { stack } = oneStack();
    // when
    new NodeFunction(stack, 'Cart', { entry: ENTRY, tracing: lambda.Tracing.ACTIVE, environment: { A: 'b' } });
    // then
    Template.fromStack(stack).hasResourceProperties('AWS::Lambda::Function', {
      TracingConfig: { Mode: 'Active' },
      Environment: { Variables: { A: 'b' } },
    });
  });

  test('bundles: one minified CommonJS file per function, the AWS SDK inside, pg-native out', () => {
    // when
    const options = esbuildOptions({ entry: ENTRY }, '/out');
    // then
    expect(options).toMatchObject({
      entryPoints: [ENTRY],
      outfile: path.join('/out', 'index.js'),
      bundle: true,
      minify: true,
      format: 'cjs',
      platform: 'node',
      target: 'node24',
      external: ['pg-native'],
    });
    expect(options.external).not.toContain('@aws-sdk/*');
    expect(esbuildOptions({ entry: ENTRY, outfile: 'nodejs/x.js', externalModules: [] }, '/out')).toMatchObject({
      outfile: path.join('/out', 'nodejs', 'x.js'),
      external: [],
    });
  });
});
