import * as v from 'valibot';
import { defineObject, type ReceivedData } from './base.ts';

// A user's public key, injected into guests (schema/tables/key-pairs.ts).
export const KeyPairObject = defineObject({
  name: 'KeyPair',
  version: '1.1',
  fields: v.object({
    name: v.string(),
    user_id: v.string(),
    fingerprint: v.string(),
    public_key: v.string(),
    type: v.picklist(['ssh', 'x509']),
  }),
  history: [
    { version: '1.0', added: [], note: 'initial version: SSH keys only' },
    { version: '1.1', added: ['type'], note: 'x509 certificates as well as SSH keys' },
  ],
});

export type KeyPairData = ReceivedData<typeof KeyPairObject>;
