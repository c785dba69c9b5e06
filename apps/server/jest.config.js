// The chaos suite (test/chaos/) has its own configuration and run (jest.chaos.config.js, `npm run test:chaos`).
const preset = require('../../jest.preset')(__dirname);

module.exports = { ...preset, testPathIgnorePatterns: [...preset.testPathIgnorePatterns, '<rootDir>/test/chaos/'] };
