"""`python -m medic.notifications` runs the service on its port."""

from medic.notifications.bootstrap import build
from medic.shared.serve import serve

if __name__ == "__main__":
    service = build()
    serve(service.app, service.settings)
