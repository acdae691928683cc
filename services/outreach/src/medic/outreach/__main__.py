"""`python -m medic.outreach` runs the service on its port."""

from medic.outreach.bootstrap import build
from medic.shared.serve import serve

if __name__ == "__main__":
    service = build()
    serve(service.app, service.settings)
