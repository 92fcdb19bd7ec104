import * as http from 'node:http';
import * as https from 'node:https';
import { Client } from 'minio';
import { BlobStoreUnavailableError } from '../errors.js';

/** TLS options handed to every request (a private CA, a client certificate, SNI). */
export interface S3TlsOptions {
  readonly ca?: string | Buffer | readonly (string | Buffer)[];
  readonly cert?: string | Buffer;
  readonly key?: string | Buffer;
  readonly rejectUnauthorized?: boolean;
  readonly servername?: string;
}

/** How to reach one S3 API. */
export interface S3ConnectionOptions {
  /** Host name or IP address, without scheme or port. */
  readonly endPoint: string;
  readonly port?: number;
  /** HTTPS when true (default false). */
  readonly useSSL?: boolean;
  readonly accessKey: string;
  readonly secretKey: string;
  /** Region used for signing (default us-east-1, which radosgw and MinIO accept). */
  readonly region?: string;
  /** Path-style URLs (`host/bucket/key`), default true: works without wildcard DNS. */
  readonly pathStyle?: boolean;
  readonly tls?: S3TlsOptions;
  /**
   * A request that sends nothing and receives no response headers for this long fails and is
   * retried (default 30 s). Once headers arrived, the reader of a body sets the pace.
   */
  readonly requestTimeoutMs?: number;
  /** Connections kept per store (default 64). */
  readonly maxSockets?: number;
}

/**
 * The minio client with the two calls the adapter needs beyond its public surface: the parts
 * of a multipart upload, and a PUT of bytes in memory in one request.
 */
export class S3Client extends Client {
  /** Parts the server holds for a multipart upload. */
  listUploadedParts(
    bucket: string,
    key: string,
    uploadId: string,
  ): Promise<{ part: number; etag: string; size: number }[]> {
    return this.listParts(bucket, key, uploadId);
  }

  /**
   * Stores `bytes` at `key` in one signed PUT (replacing an object there), without the extra
   * work minio's putObject does for streams.
   */
  async putBytes(
    bucket: string,
    key: string,
    bytes: Buffer,
    headers: Record<string, string>,
  ): Promise<void> {
    const res = await this.makeRequestAsync(
      { method: 'PUT', bucketName: bucket, objectName: key, headers },
      bytes,
      [200],
    );
    res.resume();
  }
}

/** A connected client and what it holds open. */
export interface S3Connection {
  readonly client: S3Client;
  /** `http(s)://host:port`, for messages and hints. */
  readonly endpoint: string;
  close(): void;
}

/**
 * Builds the client: our own keep-alive agent (closed with the store), a transport that puts an
 * idle timeout on each request, the client's own retries off (the adapter retries with its
 * policy and never lets the client log), and the TLS options passed through.
 */
export function connectS3(options: S3ConnectionOptions): S3Connection {
  const useSSL = options.useSSL ?? false;
  const port = options.port ?? (useSSL ? 443 : 80);
  const endpoint = `${useSSL ? 'https' : 'http'}://${options.endPoint}:${String(port)}`;
  const timeoutMs = options.requestTimeoutMs ?? 30_000;
  const base = useSSL ? https : http;
  const agent = new base.Agent({ keepAlive: true, maxSockets: options.maxSockets ?? 64 });
  const request = (
    reqOptions: http.RequestOptions,
    callback?: (res: http.IncomingMessage) => void,
  ): http.ClientRequest => {
    const req = base.request({ ...reqOptions, timeout: timeoutMs }, (res) => {
      req.setTimeout(0);
      callback?.(res);
    });
    req.on('timeout', () => {
      req.destroy(
        new BlobStoreUnavailableError(
          `S3 at ${endpoint} did not answer within ${String(timeoutMs)} ms`,
          { details: { endpoint, timeout: true } },
        ),
      );
    });
    return req;
  };
  const client = new S3Client({
    endPoint: options.endPoint,
    port,
    useSSL,
    accessKey: options.accessKey,
    secretKey: options.secretKey,
    region: options.region ?? 'us-east-1',
    pathStyle: options.pathStyle ?? true,
    transport: { request } as unknown as Pick<typeof http, 'request'>,
    transportAgent: agent,
    retryOptions: { disableRetry: true },
  });
  if (options.tls) {
    const { ca, cert, key, rejectUnauthorized, servername } = options.tls;
    client.setRequestOptions({
      ...(ca === undefined ? {} : { ca: ca as https.RequestOptions['ca'] }),
      ...(cert === undefined ? {} : { cert }),
      ...(key === undefined ? {} : { key }),
      ...(rejectUnauthorized === undefined ? {} : { rejectUnauthorized }),
      ...(servername === undefined ? {} : { servername }),
    });
  }
  return { client, endpoint, close: () => agent.destroy() };
}
