"""The mutation worker: claims durable jobs and applies each in one transaction."""
