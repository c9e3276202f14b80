// Runs before each test file's modules load (jest `setupFiles`), so Powertools' shared
// logger, metrics and tracer start quiet: no EMF lines or logs on the test output.
process.env.POWERTOOLS_SERVICE_NAME ??= 'api-test';
process.env.POWERTOOLS_METRICS_NAMESPACE ??= 'CommerceTest';
process.env.POWERTOOLS_METRICS_DISABLED ??= 'true';
process.env.POWERTOOLS_LOG_LEVEL ??= 'SILENT';
process.env.POWERTOOLS_TRACE_ENABLED ??= 'false';
