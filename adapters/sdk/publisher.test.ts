import { amqpUser } from './publisher';

describe('amqpUser', () => {
  it('is the user of the URL, decoded', () => {
    expect(amqpUser('amqp://device%2D17:secret@broker:5672/vh')).toBe('device-17');
  });

  it('is guest when the URL names no user, as amqplib logs in', () => {
    expect(amqpUser('amqp://broker')).toBe('guest');
  });
});
