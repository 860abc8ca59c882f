import { describe, expect, it } from 'vitest';
import { parseS3BlobUrl } from './s3-blob.store.js';

describe('parseS3BlobUrl', () => {
  it('reads the bucket, the prefix and the parameters of the URL', () => {
    expect(
      parseS3BlobUrl(
        's3://cairn-blobs/prod/blobs/?endpoint=http://127.0.0.1:8333&region=eu-west-3&forcePathStyle=false',
        {
          AWS_ENDPOINT_URL_S3: 'http://ignored',
          AWS_REGION: 'ignored',
        },
      ),
    ).toEqual({
      bucket: 'cairn-blobs',
      prefix: 'prod/blobs/',
      endpoint: 'http://127.0.0.1:8333',
      region: 'eu-west-3',
      forcePathStyle: false,
    });
  });

  it('falls back to the standard AWS variables, in their order of precedence', () => {
    expect(
      parseS3BlobUrl('s3://b1b', {
        AWS_ENDPOINT_URL: 'http://any',
        AWS_ENDPOINT_URL_S3: 'http://s3',
        AWS_DEFAULT_REGION: 'r2',
        AWS_REGION: 'r1',
      }),
    ).toEqual({
      bucket: 'b1b',
      prefix: '',
      endpoint: 'http://s3',
      region: 'r1',
      forcePathStyle: true,
    });
    expect(parseS3BlobUrl('s3://b1b/p', { AWS_ENDPOINT_URL: 'http://any', AWS_DEFAULT_REGION: 'r2' })).toMatchObject({
      endpoint: 'http://any',
      region: 'r2',
    });
  });

  it('leaves AWS itself to virtual-hosted addressing and the region to the SDK, and a custom endpoint a region', () => {
    expect(parseS3BlobUrl('s3://bucket/x', {})).toEqual({ bucket: 'bucket', prefix: 'x/', forcePathStyle: false });
    expect(parseS3BlobUrl('s3://bucket?endpoint=http://127.0.0.1:9000', {})).toMatchObject({
      region: 'us-east-1',
      forcePathStyle: true,
    });
  });

  it('rejects what it would otherwise silently ignore', () => {
    expect(() => parseS3BlobUrl('s3://bucket?endpiont=http://x', {})).toThrow('unknown parameter endpiont');
    expect(() => parseS3BlobUrl('s3://key:secret@bucket', {})).toThrow('credentials come from the AWS variables');
    expect(() => parseS3BlobUrl('s3://bucket?forcePathStyle=yes', {})).toThrow('use true or false');
    expect(() => parseS3BlobUrl('s3:///prefix', {})).toThrow('use s3://bucket/prefix');
  });
});
