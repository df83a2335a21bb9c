import type { BenchClient } from './client.ts';
import { type Figure, latencyFigure, percentile, round } from './stats.ts';

// The networking service's figures (issue 14): network + subnet create, port create alone and with 20
// concurrent clients (with a duplicate check), 50 concurrent creates on a /28, floating IP create +
// associate, and a boot with a port next to one without. The peer figures are Neutron 21 (Debian, ML2,
// one API worker, its own MariaDB) measured on the same kind of machine, as the issue gives them.
const NET = '/network/v2.0';
const IMAGE = '70a599e0-31e7-49b7-b260-868f441e862b';

interface PortBody {
  port: { id: string; mac_address: string; fixed_ips: Array<{ ip_address: string }> };
}

async function timed<T>(action: () => Promise<T>): Promise<{ ms: number; value: T }> {
  const started = performance.now();
  const value = await action();
  return { ms: performance.now() - started, value };
}

function expectStatus(what: string, status: number, expected: number): void {
  if (status !== expected) throw new Error(`${what}: answered ${status}, expected ${expected}`);
}

async function createNetwork(
  client: BenchClient,
  name: string,
  body: Record<string, unknown> = {},
): Promise<string> {
  const response = await client.request<{ network: { id: string } }>('POST', `${NET}/networks`, {
    network: { name, ...body },
  });
  expectStatus('network create', response.status, 201);
  return response.body.network.id;
}

async function createSubnet(client: BenchClient, networkId: string, cidr: string): Promise<string> {
  const response = await client.request<{ subnet: { id: string } }>('POST', `${NET}/subnets`, {
    subnet: { network_id: networkId, ip_version: 4, cidr },
  });
  expectStatus('subnet create', response.status, 201);
  return response.body.subnet.id;
}

function createPort(client: BenchClient, networkId: string) {
  return client.request<PortBody>('POST', `${NET}/ports`, { port: { network_id: networkId } });
}

async function networkAndSubnet(client: BenchClient, samples: number): Promise<Figure[]> {
  const latencies: number[] = [];
  for (let i = 0; i < samples; i++) {
    const { ms } = await timed(async () => {
      const network = await createNetwork(client, `bench-net-${i}`);
      await createSubnet(client, network, `10.${100 + Math.floor(i / 250)}.${i % 250}.0/24`);
    });
    latencies.push(ms);
  }
  const detail = `${samples} sequential pairs; target < 30 ms; Neutron 21 peer 199 ms p50`;
  return [latencyFigure('network: network + subnet create p50', latencies, 50, detail)];
}

function distinctCount(values: string[]): number {
  return new Set(values).size;
}

async function portCreates(client: BenchClient, sequential: number, clients: number, perClient: number) {
  const network = await createNetwork(client, 'bench-ports');
  await createSubnet(client, network, '10.200.0.0/20');
  const alone: number[] = [];
  for (let i = 0; i < sequential; i++) {
    const { ms, value } = await timed(() => createPort(client, network));
    expectStatus('port create', value.status, 201);
    alone.push(ms);
  }
  const concurrent: number[] = [];
  const made: PortBody['port'][] = [];
  await Promise.all(
    Array.from({ length: clients }, async () => {
      for (let i = 0; i < perClient; i++) {
        const { ms, value } = await timed(() => createPort(client, network));
        expectStatus('port create', value.status, 201);
        concurrent.push(ms);
        made.push(value.body.port);
      }
    }),
  );
  const ips = made.map((port) => port.fixed_ips[0]?.ip_address ?? '');
  const duplicates =
    made.length - distinctCount(ips) + (made.length - distinctCount(made.map((port) => port.mac_address)));
  const aloneDetail = `${sequential} sequential creates on a /20, one address each; Neutron 21 peer 187 ms p50`;
  const concurrentDetail = `${clients} clients x ${perClient} creates; ${duplicates} duplicate IPs or MACs among ${made.length}; target < 20 ms p50; Neutron 21 peer 3.8 s p50`;
  return [
    latencyFigure('network: port create p50 (sequential)', alone, 50, aloneDetail),
    latencyFigure('network: port create p95 (sequential)', alone, 95, aloneDetail),
    latencyFigure(
      `network: port create p50 (${clients} concurrent clients)`,
      concurrent,
      50,
      concurrentDetail,
    ),
    latencyFigure(
      `network: port create p95 (${clients} concurrent clients)`,
      concurrent,
      95,
      concurrentDetail,
    ),
  ];
}

async function crowdedSubnet(client: BenchClient, creates: number): Promise<Figure[]> {
  const network = await createNetwork(client, 'bench-slash-28');
  await createSubnet(client, network, '10.201.0.0/28');
  const latencies: number[] = [];
  const statuses: number[] = [];
  const ips: string[] = [];
  const { ms: total } = await timed(() =>
    Promise.all(
      Array.from({ length: creates }, async () => {
        const { ms, value } = await timed(() => createPort(client, network));
        latencies.push(ms);
        statuses.push(value.status);
        if (value.status === 201) ips.push(value.body.port.fixed_ips[0]?.ip_address ?? '');
      }),
    ),
  );
  const created = statuses.filter((status) => status === 201).length;
  const refused = statuses.filter((status) => status === 409).length;
  if (created + refused !== creates || distinctCount(ips) !== ips.length) {
    throw new Error(
      `/28 race: ${created} created, ${refused} refused, ${ips.length - distinctCount(ips)} duplicates`,
    );
  }
  const detail = `${creates} concurrent creates on a /28: ${created} created (13 addresses), ${refused} answered 409, 0 duplicates; Neutron 21 peer 11 s p50`;
  return [
    latencyFigure(`network: ${creates} concurrent creates on a /28, per-request p50`, latencies, 50, detail),
    {
      name: `network: ${creates} concurrent creates on a /28, all answered`,
      value: round(total),
      unit: 'ms',
      detail,
    },
  ];
}

async function floatingIps(client: BenchClient, samples: number): Promise<Figure[]> {
  const external = await createNetwork(client, 'bench-external', { 'router:external': true });
  await createSubnet(client, external, '172.31.0.0/22');
  const internal = await createNetwork(client, 'bench-internal');
  const subnet = await createSubnet(client, internal, '10.202.0.0/22');
  const router = await client.request<{ router: { id: string } }>('POST', `${NET}/routers`, {
    router: { name: 'bench-router', external_gateway_info: { network_id: external } },
  });
  expectStatus('router create', router.status, 201);
  const added = await client.request('PUT', `${NET}/routers/${router.body.router.id}/add_router_interface`, {
    subnet_id: subnet,
  });
  expectStatus('router interface', added.status, 200);
  const latencies: number[] = [];
  for (let i = 0; i < samples; i++) {
    const port = await createPort(client, internal);
    expectStatus('port create', port.status, 201);
    const { ms } = await timed(async () => {
      const floating = await client.request<{ floatingip: { id: string } }>('POST', `${NET}/floatingips`, {
        floatingip: { floating_network_id: external },
      });
      expectStatus('floating IP create', floating.status, 201);
      const associated = await client.request('PUT', `${NET}/floatingips/${floating.body.floatingip.id}`, {
        floatingip: { port_id: port.body.port.id },
      });
      expectStatus('floating IP associate', associated.status, 200);
    });
    latencies.push(ms);
  }
  const detail = `${samples} sequential create + associate pairs; target < 30 ms; Neutron 21 peer 1.3 s`;
  return [latencyFigure('network: floating IP create + associate p50', latencies, 50, detail)];
}

/** A boot through the v2.1 face at 2.37, where `networks` is required and `none` means no port. */
async function bootToActive(client: BenchClient, networks: Array<{ uuid: string }> | 'none', name: string) {
  const { ms } = await timed(async () => {
    const response = await client.request<{ server: { id: string } }>(
      'POST',
      '/v2.1/servers',
      { server: { name, imageRef: IMAGE, flavorRef: '1', availability_zone: 'az-1', networks } },
      { 'OpenStack-API-Version': 'compute 2.37' },
    );
    expectStatus('server create', response.status, 202);
    await client.waitActive(response.body.server.id);
  });
  return ms;
}

async function bootWithPort(client: BenchClient, samples: number): Promise<Figure[]> {
  const network = await createNetwork(client, 'bench-boot');
  await createSubnet(client, network, '10.203.0.0/22');
  const withPort: number[] = [];
  const without: number[] = [];
  // Interleaved, so that both see the same machine: its speed swings within minutes.
  for (let i = 0; i < samples; i++) {
    withPort.push(await bootToActive(client, [{ uuid: network }], `bench-net-boot-${i}`));
    without.push(await bootToActive(client, 'none', `bench-nonet-boot-${i}`));
  }
  const detail = `${samples} sequential boots each, interleaved; fake driver, status polled every 5 ms`;
  return [
    latencyFigure('network: boot → ACTIVE with a port p50', withPort, 50, detail),
    latencyFigure(
      'network: boot → ACTIVE without a network p50',
      without,
      50,
      `${detail}; the same run's comparison`,
    ),
    {
      name: 'network: what the port adds to a boot (p50 difference)',
      value: round(percentile(withPort, 50) - percentile(without, 50)),
      unit: 'ms',
      detail,
    },
  ];
}

export async function networkingBench(client: BenchClient): Promise<Figure[]> {
  return [
    ...(await networkAndSubnet(client, 30)),
    ...(await portCreates(client, 100, 20, 10)),
    ...(await crowdedSubnet(client, 50)),
    ...(await floatingIps(client, 30)),
    ...(await bootWithPort(client, 20)),
  ];
}
