"""A partner's webhook receiver: verifies each delivery with the stock `standardwebhooks` library, handles each
message once, prints what arrived. Run it with `WEBHOOK_SECRET=whsec_... python webhook_receiver.py` (PORT=8080)."""

import os

from aiohttp import web
from standardwebhooks.webhooks import Webhook, WebhookVerificationError

SECRET = os.environ["WEBHOOK_SECRET"]  # the secret shown at registration, from your own secret store
webhook = Webhook(SECRET)
seen: set[str] = set()  # a real receiver keeps this in its database


async def receive(request: web.Request) -> web.Response:
    body = await request.read()  # the raw bytes, before any JSON parsing
    try:
        message = webhook.verify(body, dict(request.headers))
    except WebhookVerificationError:
        return web.Response(status=400)  # a wrong or stale signature: not from us, or replayed
    message_id = request.headers["webhook-id"]
    if message_id in seen:
        return web.Response(status=204)  # a retry of a message already handled
    seen.add(message_id)
    print("verified", message_id, message["type"], message["data"], flush=True)  # queue the work; answer quickly
    return web.Response(status=204)


async def retired(request: web.Request) -> web.Response:
    return web.Response(status=410)  # Gone: the sender disables this endpoint and stops for good


app = web.Application()
app.router.add_post("/medic", receive)
app.router.add_post("/retired", retired)

if __name__ == "__main__":
    web.run_app(app, host="127.0.0.1", port=int(os.environ.get("PORT", "8080")))
