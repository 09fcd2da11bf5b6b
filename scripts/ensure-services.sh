#!/usr/bin/env bash
# Starts the local services MyMONIT needs if they are not running, and enables RabbitMQ's
# management plugin (tests create their own vhosts through its HTTP API). Idempotent.
set -euo pipefail

listening() { (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null; }
wait_for() { # port name seconds
  for _ in $(seq 1 "$3"); do listening "$1" && return 0; sleep 1; done
  echo "ensure-services: $2 did not come up on port $1" >&2; return 1
}

if ! listening 3306; then
  echo "ensure-services: starting MariaDB"
  start-stop-daemon --start --oknodo --background --exec /usr/sbin/mariadbd
  wait_for 3306 MariaDB 60
fi

if ! listening 5672; then
  echo "ensure-services: starting RabbitMQ"
  rabbitmq-server -detached
  wait_for 5672 RabbitMQ 90
fi

if ! listening 15672; then
  echo "ensure-services: enabling the RabbitMQ management plugin"
  rabbitmq-plugins enable --quiet rabbitmq_management >/dev/null
  wait_for 15672 "RabbitMQ management" 60
fi

if command -v mosquitto >/dev/null && ! listening 1883; then
  echo "ensure-services: starting Mosquitto"
  mosquitto -d -c /etc/mosquitto/mosquitto.conf
  wait_for 1883 Mosquitto 20
fi
