// Imported first by the local platform's entry point, before Powertools loads: the
// functions' logs at WARN and above, and no EMF metric lines on the console.
process.env.POWERTOOLS_SERVICE_NAME ??= 'commerce-local';
process.env.POWERTOOLS_METRICS_NAMESPACE ??= 'CommerceLocal';
process.env.POWERTOOLS_METRICS_DISABLED ??= 'true';
process.env.POWERTOOLS_LOG_LEVEL ??= 'WARN';
