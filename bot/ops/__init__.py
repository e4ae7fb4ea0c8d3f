"""Operations for the production profile: metrics, action-server health/readiness plugin,
the RabbitMQ event consumer example. See docs/deploy.md."""
