/**
 * The key-policy statement every data and operations key carries: only AWS services may
 * create grants on the key, and only for their own resources (CT.KMS.PR.3).
 */
export const DENY_GRANTS_NOT_FOR_AWS_RESOURCES = {
  Sid: 'DenyGrantsNotForAwsResources',
  Effect: 'Deny',
  Principal: { AWS: '*' },
  Action: 'kms:CreateGrant',
  Resource: '*',
  Condition: { BoolIfExists: { 'kms:GrantIsForAWSResource': 'false', 'aws:PrincipalIsAWSService': 'false' } },
};
