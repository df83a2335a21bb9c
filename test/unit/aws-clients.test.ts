import { describe, expect, it } from 'vitest';
import { createSfnClient, createSqsClient } from '../../functions/shared/aws.ts';
import { ControlPlaneEnv, parseConfig } from '../../functions/shared/config.ts';

function config(credentials: Record<string, string>) {
  return parseConfig(ControlPlaneEnv, {
    DATABASE_URL: 'https://user:password@aws.connect.psdb.cloud',
    STATE_MACHINE_ARNS: '{}',
    ...credentials,
  });
}

describe('AWS clients', () => {
  it('hand temporary credentials to the SDK with their session token', async () => {
    const temporary = config({
      AWS_ACCESS_KEY_ID: 'ASIATEMPORARY',
      AWS_SECRET_ACCESS_KEY: 'temporary-secret',
      AWS_SESSION_TOKEN: 'session-token',
    });
    for (const client of [createSqsClient(temporary), createSfnClient(temporary)]) {
      expect(await client.config.credentials()).toMatchObject({
        accessKeyId: 'ASIATEMPORARY',
        secretAccessKey: 'temporary-secret',
        sessionToken: 'session-token',
      });
    }
  });

  it('hand a long-lived key without a session token', async () => {
    const longLived = config({ AWS_ACCESS_KEY_ID: 'AKIALONGLIVED', AWS_SECRET_ACCESS_KEY: 'secret' });
    const credentials = await createSqsClient(longLived).config.credentials();
    expect(credentials).toMatchObject({ accessKeyId: 'AKIALONGLIVED', secretAccessKey: 'secret' });
    expect(credentials.sessionToken).toBeUndefined();
  });
});
