// Integration tests start built entry points (dist/…) as real processes: build once first.
const { execSync } = require('node:child_process');

module.exports = async () => {
  execSync('npm run -s build', { cwd: `${__dirname}/../..`, stdio: 'inherit' });
};
