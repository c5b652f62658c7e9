"""Model work of the routes: each job takes the loaded `Engine` and a validated request, runs in
the worker thread (`Runtime.run`) and returns a response schema."""
