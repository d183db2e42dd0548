"""Schools: their engagements of listed providers."""
