"""What every emulator shares: transports, the clock, the provider gate and the policy gateway."""
