import { Logger } from '@aws-lambda-powertools/logger';
import { Metrics } from '@aws-lambda-powertools/metrics';

// Service name, namespace and log level come from the POWERTOOLS_* environment the stack sets.
//
// Kept: the logger (structured JSON with the request id, and the X-Ray trace id on every
// line, so a trace leads to its logs) and metrics (EMF lines, no API call on the request
// path). Not used: Powertools' tracer. Lambda's active tracing records every invocation
// without it, and its X-Ray SDK added about 100 KB to every bundle and an async hook that
// makes every promise of the process costlier.
export const logger = new Logger();
export const metrics = new Metrics();
