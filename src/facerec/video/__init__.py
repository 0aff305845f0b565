"""Video: frame sources, the tracker, appearances and their events, drawing, the real-time loop.
The real-time tool and the service's cameras both run on it."""
