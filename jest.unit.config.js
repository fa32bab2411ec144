/**
 * `npm run test:unit`: the fast tier alone (the `unit` project of jest.config.js), without the e2e tier's dev server.
 * The same as `jest --selectProjects unit`, but takes paths and flags after it (`npm run test:unit -- --watch`).
 */
const { projects, ...common } = require('./jest.config');

/** @type {import('jest').Config} */
module.exports = { ...common, ...projects.find((p) => p.displayName === 'unit') };
