/** Every versioned route lives under this prefix. */
export const apiPrefix = '/v1';

/** The OpenAPI 3.1 document generated from the route schemas. */
export const openApiPath = `${apiPrefix}/openapi.json`;

/** Liveness and readiness of the process and its stores; unversioned for load balancers. */
export const healthPath = '/healthz';

/** Whether the read models have caught up with the log (projection lag); unversioned too. */
export const readyPath = '/readyz';

/**
 * Fills a route's `:name` placeholders, each value URI-encoded; a placeholder without a value is
 * a programming error and throws.
 */
export function fillPath(url: string, params: Readonly<Record<string, string>>): string {
  return url.replace(/:([A-Za-z][A-Za-z0-9]*)/g, (_, name: string) => {
    const value = params[name];
    if (value === undefined) throw new TypeError(`no value for :${name} in ${url}`);
    return encodeURIComponent(value);
  });
}
