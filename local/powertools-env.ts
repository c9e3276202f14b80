// Imported first by the local platform's entry point, before Powertools loads: the
// functions' logs at WARN and above, no EMF metric lines and no X-Ray on the console.
process.env.POWERTOOLS_SERVICE_NAME ??= 'commerce-local';
process.env.POWERTOOLS_METRICS_NAMESPACE ??= 'CommerceLocal';
process.env.POWERTOOLS_METRICS_DISABLED ??= 'true';
process.env.POWERTOOLS_LOG_LEVEL ??= 'WARN';
process.env.POWERTOOLS_TRACE_ENABLED ??= 'false';
// Tracing is off here, so the X-Ray SDK under Powertools' tracer need not track context:
// in its default (automatic) mode it installs an async hook with a destroy callback, which
// makes every promise in the process costlier and slowed the local APIs several-fold.
process.env.AWS_XRAY_MANUAL_MODE ??= 'true';
