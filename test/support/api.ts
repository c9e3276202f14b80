/** The service names of a region's API functions, one per domain, sorted. */
export const API_FUNCTION_SERVICES = [
  'api-cart',
  'api-health',
  'api-likes',
  'api-orders',
  'api-products',
  'api-profile',
];
