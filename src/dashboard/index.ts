export { chainMiddleware, dashboardMiddleware, DEFAULT_STATIC_DIR } from './serve';
