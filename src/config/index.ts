export { loadConfig, checkProductionSecrets, describeConfig, type LoadConfigOptions } from './load';
export { configSchema, ROLES, DEV_AES_KEYS, DEV_JWT_SECRET, DEV_JOIN_SECRET, type AppConfig, type Role } from './schema';
export { splitAmqpUrls, amqpTargets, amqpVhost } from './amqp-urls';
