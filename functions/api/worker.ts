import { createApp } from './app.ts';

// The Workers entry. The app is built once per isolate (routing tables only; no request state).
const app = createApp();

export default {
  fetch: app.fetch,
};
