import { type KMSClient, SignCommand, VerifyCommand } from '@aws-sdk/client-kms';

/**
 * The region's copy of the pool's JWKS as the parameter holds it: the JWKS text and a KMS
 * signature of it. The authorizer trusts the keys only if the signature verifies with the
 * region's copy key, which only the copier may sign with: writing the parameter alone
 * (`ssm:PutParameter`) cannot add a key the authorizer would accept.
 */
export interface SignedCopy {
  readonly jwks: string;
  /** Base64 ECDSA_SHA_256 signature of `jwks` by the copy key. */
  readonly signature: string;
}

const ALGORITHM = 'ECDSA_SHA_256';

export async function signCopy(kms: Pick<KMSClient, 'send'>, keyId: string, jwks: string): Promise<SignedCopy> {
  const answer = await kms.send(
    new SignCommand({ KeyId: keyId, Message: Buffer.from(jwks), MessageType: 'RAW', SigningAlgorithm: ALGORITHM }),
  );
  if (!answer.Signature) throw new Error(`KMS returned no signature for key ${keyId}`);
  return { jwks, signature: Buffer.from(answer.Signature).toString('base64') };
}

/** The JWKS text of `text` (the parameter's value) if it is a copy signed by `keyId`; else why not. */
export async function verifiedCopy(
  kms: Pick<KMSClient, 'send'>,
  keyId: string,
  text: string,
): Promise<{ readonly jwks: string } | { readonly refused: string }> {
  let copy: Partial<SignedCopy>;
  try {
    copy = JSON.parse(text) as Partial<SignedCopy>;
  } catch {
    return { refused: 'the copy is not JSON' };
  }
  if (typeof copy.jwks !== 'string' || typeof copy.signature !== 'string') {
    return { refused: 'the copy is not signed' };
  }
  const answer = await kms
    .send(
      new VerifyCommand({
        KeyId: keyId,
        Message: Buffer.from(copy.jwks),
        MessageType: 'RAW',
        Signature: Buffer.from(copy.signature, 'base64'),
        SigningAlgorithm: ALGORITHM,
      }),
    )
    .catch((error: Error) => ({ SignatureValid: false, reason: error.message }));
  if (answer.SignatureValid !== true) return { refused: "the copy's signature does not verify" };
  return { jwks: copy.jwks };
}
