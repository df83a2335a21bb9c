import type { SecretName } from './manifest.ts';

// PlanetScale is provisioned outside this app (its console or pscale CLI manages branches and
// passwords); the app only receives connection URLs, which must never appear in code or state files
// in clear, hence secrets. TokenSecret sits here as the other per-stage credential the stage needs.
export type Secrets = Record<SecretName, sst.Secret>;

export function declareSecrets(): Secrets {
  return {
    /** https://<user>:<password>@<host> of the primary (PlanetScale HTTP API). */
    DatabaseUrl: new sst.Secret('DatabaseUrl'),
    /** Comma-separated replica URLs; empty means every read goes to the primary. */
    DatabaseReplicaUrls: new sst.Secret('DatabaseReplicaUrls', ''),
    /** HMAC key for identity tokens, at least 32 characters. */
    TokenSecret: new sst.Secret('TokenSecret'),
  };
}

export function secretValues(secrets: Secrets): Record<SecretName, $util.Output<string>> {
  return {
    DatabaseUrl: secrets.DatabaseUrl.value,
    DatabaseReplicaUrls: secrets.DatabaseReplicaUrls.value,
    TokenSecret: secrets.TokenSecret.value,
  };
}
