export * from './compute-commands.ts';
export * from './compute-nodes.ts';
export * from './flavors.ts';
export * from './identity.ts';
export * from './instances.ts';
export * from './migrations.ts';
export * from './services.ts';
