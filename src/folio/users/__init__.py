"""The users gRPC service: who a user is and what they may do in a shop, answered from identity."""
