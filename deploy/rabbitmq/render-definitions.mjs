// Renders RabbitMQ definitions from the template with the passwords in the environment, so no
// password (nor its hash) is ever committed: node render-definitions.mjs TEMPLATE OUT.
// A user's "password_env" names the variable; the output carries RabbitMQ's salted SHA-256 hash.
import { createHash, randomBytes } from 'node:crypto';
import { chmodSync, chownSync, readFileSync, writeFileSync } from 'node:fs';

const [template, out] = process.argv.slice(2);
if (!template || !out) {
  console.error('usage: node render-definitions.mjs TEMPLATE OUT');
  process.exit(2);
}

/** rabbit_password_hashing_sha256: base64(salt ‖ sha256(salt ‖ password)), 4-byte salt. */
function rabbitHash(password) {
  const salt = randomBytes(4);
  const digest = createHash('sha256').update(Buffer.concat([salt, Buffer.from(password, 'utf8')])).digest();
  return Buffer.concat([salt, digest]).toString('base64');
}

const definitions = JSON.parse(readFileSync(template, 'utf8'));
const problems = [];
definitions.users = definitions.users.map(({ password_env: name, ...user }) => {
  const password = process.env[name] ?? '';
  if (password.length < 12 || password.startsWith('change-me')) problems.push(`${name}: set a password of at least 12 characters in .env`);
  return { ...user, password_hash: rabbitHash(password), hashing_algorithm: 'rabbit_password_hashing_sha256' };
});
if (problems.length) {
  console.error(`render-definitions: refusing to start RabbitMQ:\n  ${problems.join('\n  ')}`);
  process.exit(1);
}
writeFileSync(out, `${JSON.stringify(definitions, null, 2)}\n`, { mode: 0o640 });
// The broker runs as uid/gid 999 in the official image.
chownSync(out, 999, 999);
chmodSync(out, 0o640);
console.log(`render-definitions: wrote ${out} (${definitions.users.length} users)`);
