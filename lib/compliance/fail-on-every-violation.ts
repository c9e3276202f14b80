import type {
  IPolicyValidationContextBeta1,
  IPolicyValidationPluginBeta1,
  PolicyValidationPluginReportBeta1,
} from 'aws-cdk-lib';

/**
 * The same policy-validation plugin, with every violation that carries no severity marked
 * an error.
 *
 * Why: `@cdklabs/cdk-validator-cfnguard` (0.0.62) reports violations without a severity.
 * Once any of a plugin's findings is acknowledged, aws-cdk-lib (2.276) recomputes the
 * plugin's success as "no violation left has severity error or fatal", so every finding
 * nobody acknowledged would be printed as ERROR while `cdk synth` still succeeds. Marked
 * as errors, they fail synthesis as the cdk-nag packs' findings do; acknowledged ones are
 * still suppressed (only `fatal` cannot be).
 */
export function failOnEveryViolation(plugin: IPolicyValidationPluginBeta1): IPolicyValidationPluginBeta1 {
  return {
    name: plugin.name,
    version: plugin.version,
    ruleIds: plugin.ruleIds,
    validate(context: IPolicyValidationContextBeta1): PolicyValidationPluginReportBeta1 {
      const report = plugin.validate(context);
      return {
        ...report,
        violations: report.violations.map((violation) => ({ ...violation, severity: violation.severity ?? 'error' })),
      };
    },
  };
}
