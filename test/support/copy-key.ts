import { createSign, createVerify, generateKeyPairSync } from 'node:crypto';
import { SignCommand, VerifyCommand } from '@aws-sdk/client-kms';

/**
 * A stand-in for the region's KMS copy key (ECC_NIST_P256, ECDSA_SHA_256): it signs and
 * verifies with a real key pair, and answers Verify as KMS does (SignatureValid, or an
 * error for a bad signature). KMS has no local engine.
 */
export function copyKey(keyId = 'arn:aws:kms:eu-west-1:123456789012:key/copy') {
  const { privateKey, publicKey } = generateKeyPairSync('ec', { namedCurve: 'prime256v1' });
  const sign = (message: Uint8Array) => createSign('SHA256').update(message).sign(privateKey);
  return {
    keyId,
    sign,
    send: async (command: unknown) => {
      if (command instanceof SignCommand) {
        if (command.input.KeyId !== keyId) throw new Error(`no key ${command.input.KeyId}`);
        return { Signature: sign(command.input.Message as Uint8Array) };
      }
      if (command instanceof VerifyCommand) {
        const { KeyId, Message, Signature } = command.input;
        const valid =
          KeyId === keyId &&
          createVerify('SHA256')
            .update(Message as Uint8Array)
            .verify(publicKey, Buffer.from(Signature as Uint8Array));
        if (!valid)
          throw Object.assign(new Error('KMSInvalidSignatureException'), { name: 'KMSInvalidSignatureException' });
        return { SignatureValid: true };
      }
      throw new Error('unexpected KMS command');
    },
  };
}

/** The parameter value the copier writes for `jwks`, signed by `key`. */
export function signedCopyOf(key: ReturnType<typeof copyKey>, jwks: string) {
  return { jwks, signature: key.sign(Buffer.from(jwks)).toString('base64') };
}
