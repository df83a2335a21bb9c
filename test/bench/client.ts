// A minimal API client for benchmarks: plain fetch against the local cloud on 127.0.0.1.
export class BenchClient {
  constructor(
    readonly apiUrl: string,
    public authToken = '',
  ) {}

  async login(user: string, password: string): Promise<void> {
    const response = await fetch(`${this.apiUrl}/identity/v3/auth/tokens`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({
        auth: { identity: { methods: ['password'], password: { user: { name: user, password } } } },
      }),
    });
    this.authToken = response.headers.get('x-subject-token') ?? '';
    await response.arrayBuffer();
    if (!this.authToken) throw new Error(`bench login failed: ${response.status}`);
  }

  async request<T>(
    method: string,
    path: string,
    body?: unknown,
    headers: Record<string, string> = {},
  ): Promise<{ status: number; body: T }> {
    const response = await fetch(`${this.apiUrl}${path}`, {
      method,
      headers: { 'content-type': 'application/json', 'x-auth-token': this.authToken, ...headers },
      body: body === undefined ? undefined : JSON.stringify(body),
    });
    const text = await response.text();
    return { status: response.status, body: (text ? JSON.parse(text) : {}) as T };
  }

  async createServer(name: string, zone: string): Promise<string> {
    const response = await this.request<{ server: { id: string } }>('POST', '/v3/servers', {
      server: {
        name,
        image_ref: '70a599e0-31e7-49b7-b260-868f441e862b',
        flavor_ref: '1',
        availability_zone: zone,
      },
    });
    if (response.status !== 202) throw new Error(`create failed: ${response.status}`);
    return response.body.server.id;
  }

  /** Polls every `intervalMs` until the server leaves BUILD; throws unless it became ACTIVE. */
  async waitActive(id: string, intervalMs = 5): Promise<void> {
    for (;;) {
      const { body } = await this.request<{ server?: { status: string } }>('GET', `/v3/servers/${id}`);
      const status = body.server?.status;
      if (status === 'ACTIVE') return;
      if (status !== 'BUILD') throw new Error(`server ${id} ended ${status}`);
      await new Promise((resolve) => setTimeout(resolve, intervalMs));
    }
  }
}
