"""Text templates for the example-archive generator (:mod:`cxlens.example_data`),
and :func:`render`, which fills them for many rows at once.

Templates use ``{slot}`` fields filled per ticket (``product``, ``order``,
``amount``, ``date``, ``days``, ``plan``, ``feature``, ``device``, ``error``,
``carrier``, ``city``, ``name``, ``agent``, ``ticket``).  Request types are
the support taxonomy used by the request-type classifier (lower-case, snake).
"""

from __future__ import annotations

from functools import lru_cache
from string import Formatter

import numpy as np

__all__ = ["MENTIONS", "REQUEST_TYPES", "SLOT_VALUES", "TEXT", "render"]

REQUEST_TYPES = (
    "cancellation", "refund", "return", "shipping_delivery", "order_status", "how_to",
    "product_availability", "sales_pricing", "technical_issue", "account", "billing_payment",
    "complaint", "feedback_praise",
)

SLOT_VALUES: dict[str, tuple[str, ...]] = {
    "product": ("wireless earbuds", "smart thermostat", "standing desk", "espresso machine", "running shoes",
                "4K monitor", "robot vacuum", "yoga mat", "air purifier", "mechanical keyboard", "backpack",
                "smart watch", "blender", "office chair", "phone case", "desk lamp", "water bottle",
                "gaming headset", "electric toothbrush", "bluetooth speaker", "winter jacket", "coffee grinder",
                "webcam", "fitness tracker", "kettle", "router", "e-reader", "hair dryer", "tablet stand",
                "portable charger"),
    "plan": ("Starter", "Growth", "Pro", "Enterprise"),
    "feature": ("the reporting dashboard", "two-factor login", "the mobile app", "CSV export", "team sharing",
                "the calendar sync", "bulk upload", "the API", "single sign-on", "automatic backups",
                "notifications", "the invoice page", "saved searches", "dark mode", "offline mode"),
    "device": ("iPhone 14", "Pixel 8", "Galaxy S23", "MacBook Air", "Windows 11 laptop", "iPad", "Chromebook",
               "Android tablet", "Firefox", "Chrome", "Safari", "Edge"),
    "error": ("E102", "E403", "E500", "ERR_TIMEOUT", "SYNC-17", "PAY-402", "AUTH-9", "0x80070005", "E221"),
    "carrier": ("UPS", "FedEx", "DHL", "USPS", "the courier", "Royal Mail"),
    "city": ("Denver", "Austin", "Leeds", "Toronto", "Dublin", "Lyon", "Munich", "Seattle", "Melbourne", "Porto",
             "Chicago", "Rotterdam"),
    "name": ("Anna", "Ben", "Carla", "David", "Elif", "Farid", "Grace", "Hugo", "Ines", "Jonas", "Kemal", "Lena",
             "Marco", "Nora", "Omar", "Priya", "Quinn", "Rosa", "Sam", "Tomas", "Uma", "Victor", "Wen", "Yara",
             "Zoe", "Liam", "Mia", "Noah", "Ava", "Lucas"),
    "agent": ("Maria", "James", "Sofia", "Daniel", "Aisha", "Kenji", "Laura", "Mateo", "Chloe", "Ravi", "Emma",
              "Oliver", "Hana", "Pablo", "Julia", "Tariq", "Nina", "Felix", "Sara", "Leo"),
}

_T: dict[str, dict[str, tuple[str, ...]]] = {
    "cancellation": {
        "subject": ("Cancel my subscription", "Cancellation request", "Please close my account", "Stop my plan",
                    "Cancel before renewal"),
        "first": (
            "I want to cancel my {plan} subscription effective immediately.",
            "Please cancel my account before the next renewal on {date}.",
            "How do I cancel? I can't find the option anywhere in the settings.",
            "We have decided to stop using the service. Please cancel the {plan} plan and confirm by email.",
            "I'd like to end my subscription. We are moving to another provider next month.",
            "Can you cancel my membership and make sure I'm not charged again on {date}?",
            "Please terminate our contract, we no longer need {feature}.",
            "I need to cancel order {order}, I placed it by mistake.",
            "Cancel the {product} order {order} please, I found it cheaper elsewhere.",
        ),
        "follow": ("Has the cancellation gone through yet?", "I still see the subscription as active.",
                   "Can you confirm I won't be charged again?", "Is there a cancellation fee?"),
        "agent": (
            "I've cancelled your {plan} subscription; you keep access until {date} and won't be charged again.",
            "I'm sorry to see you go. Before I cancel, could you tell us what made you decide to leave?",
            "Your order {order} has been cancelled and the payment hold will be released within {days} days.",
            "I can cancel that for you. Please confirm the email address on the account so I can proceed.",
        ),
    },
    "refund": {
        "subject": ("Refund request", "Where is my refund?", "Money back for order {order}", "Refund not received"),
        "first": (
            "I returned the {product} two weeks ago and still haven't received my refund of {amount}.",
            "I was charged {amount} for order {order} but it never arrived. I want a refund.",
            "Can I get my money back for the {product}? It stopped working after {days} days.",
            "You promised a refund on {date} and nothing has shown up on my card.",
            "Please refund the {amount} charge, I cancelled before the renewal.",
            "When will the refund for order {order} be processed?",
            "I'd like a full refund for the {product}, it is not as described.",
            "The refund I got was {amount} less than what I paid. Can you check?",
        ),
        "follow": ("Any update on the refund?", "It's been {days} days and the money is still not back.",
                   "My bank says there is no pending refund.", "Can you send me a confirmation of the refund?"),
        "agent": (
            "I've issued a refund of {amount} for order {order}; it should reach your card within {days} business days.",
            "Thanks for your patience. The refund was processed on {date}; banks can take up to a week to show it.",
            "I can see the return has arrived, so I've approved the refund of {amount} just now.",
            "Could you send the last four digits of the card you paid with so I can trace the refund?",
        ),
    },
    "return": {
        "subject": ("Return request", "How do I return this?", "Return label for order {order}", "Exchange item"),
        "first": (
            "I'd like to return the {product} from order {order}, it's the wrong size.",
            "How do I send back an item? The {product} arrived damaged.",
            "Can I exchange the {product} for a different colour?",
            "I need a return label for order {order}. The box is already packed.",
            "Is it too late to return something I bought on {date}?",
            "The {product} doesn't fit my needs, what is your return policy?",
            "I dropped off the return at {carrier} in {city} but the tracking hasn't updated.",
        ),
        "follow": ("Did you receive the item back?", "The return label link doesn't work.",
                   "Do I need the original packaging?"),
        "agent": (
            "I've emailed you a prepaid return label for order {order}; please drop it at any {carrier} point.",
            "Returns are free within 30 days. I've started the return for the {product} for you.",
            "We received your return on {date} and it's being inspected; you'll hear from us within {days} days.",
            "I've set up an exchange; the new {product} ships as soon as the old one is scanned by {carrier}.",
        ),
    },
    "shipping_delivery": {
        "subject": ("Delivery problem", "Package not delivered", "Late delivery for {order}", "Shipping question"),
        "first": (
            "My package was supposed to arrive on {date} and it's still not here.",
            "Tracking says delivered but there is no parcel at my door in {city}.",
            "The {product} arrived with a broken box and the item is scratched.",
            "Can you ship to {city}? I need it before {date}.",
            "{carrier} has had my order {order} stuck in transit for {days} days.",
            "How long does express delivery take and how much does it cost?",
            "The courier left my package with a neighbour I don't know. Order {order}.",
            "Can I change the delivery address for order {order}? I'm moving.",
        ),
        "follow": ("Still no sign of the package.", "The {carrier} driver says they never had it.",
                   "Can you send a replacement instead?"),
        "agent": (
            "I'm sorry about the delay. I've opened a trace with {carrier} for order {order}.",
            "I've arranged a replacement {product}; it ships today with express delivery at no charge.",
            "The parcel is at the {city} depot and should be delivered within {days} days.",
            "I've updated the delivery address on order {order}; you'll get a new tracking email shortly.",
        ),
    },
    "order_status": {
        "subject": ("Order status", "Where is my order {order}?", "Has my order shipped?", "Order update"),
        "first": (
            "Where is my order {order}? I ordered it on {date}.",
            "Has my {product} shipped yet? I haven't had a confirmation email.",
            "Can you tell me the status of order {order}?",
            "I placed an order {days} days ago and it still says processing.",
            "Is my order {order} confirmed? The payment went through but I got no email.",
            "When will the {product} be dispatched?",
        ),
        "follow": ("Any news on the order?", "The tracking link gives an error.", "Thanks, and when will it arrive?"),
        "agent": (
            "Order {order} shipped on {date} with {carrier}; the tracking link is in your inbox.",
            "Your order is being packed and will leave our warehouse within {days} days.",
            "I can confirm order {order} is placed and paid; the confirmation email is on its way again.",
        ),
    },
    "how_to": {
        "subject": ("How do I...", "Question about {feature}", "Help with setup", "How to use {feature}"),
        "first": (
            "How do I set up {feature}? The help article is out of date.",
            "Is there a way to export all my data to CSV?",
            "How can I add a colleague to my account?",
            "Where do I change the notification settings on the {device}?",
            "How do I connect the {product} to my wifi?",
            "Can you explain how to use {feature} with the {plan} plan?",
            "What's the best way to move my projects to a new workspace?",
            "I can't figure out how to reset the {product} to factory settings.",
        ),
        "follow": ("Thanks, and how do I undo that?", "I followed the steps but the option is greyed out.",
                   "Got it, where do I find it on the {device}?"),
        "agent": (
            "Go to Settings > {feature} and switch it on; here's a short guide with screenshots.",
            "Great question! On the {device}, open the menu, tap Account, then Team, then Invite.",
            "Hold the power button for ten seconds until the light blinks; that resets the {product}.",
            "Here's our step-by-step article on {feature}; let me know if any step is unclear.",
        ),
    },
    "product_availability": {
        "subject": ("Back in stock?", "Availability of {product}", "Is this available in {city}?", "Stock question"),
        "first": (
            "When will the {product} be back in stock?",
            "Do you have the {product} in black? The site says sold out.",
            "Is the {product} available in stores in {city}?",
            "Will you restock the large size before {date}?",
            "Can I pre-order the new {product}?",
            "Is {feature} available on the {plan} plan or only on Enterprise?",
        ),
        "follow": ("Can you notify me when it's back?", "Is there a similar model in stock now?"),
        "agent": (
            "The {product} is expected back in stock around {date}; I've added you to the notification list.",
            "Our {city} store has two in stock right now; you can reserve one online for pick-up.",
            "{feature} is included from the Growth plan upwards.",
        ),
    },
    "sales_pricing": {
        "subject": ("Pricing question", "Quote for {plan} plan", "Discount for teams?", "Upgrade options"),
        "first": (
            "What's the price difference between the Growth and {plan} plans?",
            "Do you offer discounts for non-profits or annual billing?",
            "We're a team of {days} people. Can we get a quote for the {plan} plan?",
            "Is there a free trial of {feature}?",
            "I'd like to upgrade to {plan}. Will I be charged the full month?",
            "Do you do bulk pricing if we order 50 units of the {product}?",
            "Can I get a demo before we buy?",
        ),
        "follow": ("Can you send that as a PDF quote?", "Does the price include VAT?"),
        "agent": (
            "Annual billing saves 20% on every plan; I've sent a quote for the {plan} plan to your email.",
            "I've passed your details to our sales team, who will call you on {date} for a demo.",
            "Upgrades are prorated, so you only pay the difference for the rest of the month.",
        ),
    },
    "technical_issue": {
        "subject": ("Error {error}", "App keeps crashing", "Something is broken", "Bug report: {feature}"),
        "first": (
            "The app crashes every time I open {feature} on my {device}.",
            "I'm getting error {error} when I try to log in.",
            "Sync stopped working since the last update. Nothing loads.",
            "The {product} won't turn on after the firmware update.",
            "{feature} has been down for me all morning, error {error}.",
            "Pages take forever to load on {device}, it's unusable.",
            "The export produces an empty file, I've tried three times.",
            "My {product} keeps disconnecting from the app every few minutes.",
        ),
        "follow": ("I cleared the cache and reinstalled, still the same error.", "It's happening again today.",
                   "Here is a screenshot of the error {error}.", "Any ETA on a fix?"),
        "agent": (
            "Thanks for the details. Could you try signing out and back in, then tell me if {error} still appears?",
            "Our engineers found the cause of {error}; a fix is rolling out today.",
            "Please update the app to the latest version and restart your {device}; that resolves the crash.",
            "I've escalated this to our technical team with your logs; I'll update you within {days} days.",
        ),
    },
    "account": {
        "subject": ("Can't log in", "Change my email", "Account locked", "Password reset not arriving"),
        "first": (
            "I can't log in, the password reset email never arrives.",
            "Please change the email on my account, I no longer use the old one.",
            "My account got locked after too many attempts.",
            "How do I delete my account and all my data?",
            "Someone else seems to have access to my account, I see logins from {city}.",
            "I need to transfer account ownership to my colleague.",
            "Two-factor login codes aren't reaching my {device}.",
        ),
        "follow": ("Still no email, checked spam too.", "Done, what's next?", "Can you confirm the change?"),
        "agent": (
            "I've unlocked your account and sent a fresh reset link; it expires in 24 hours.",
            "For your security I've signed out all sessions; please set a new password now.",
            "The email address is updated; you'll get a confirmation at the new address.",
        ),
    },
    "billing_payment": {
        "subject": ("Billing question", "Charged twice", "Invoice request", "Payment failed"),
        "first": (
            "I was charged twice this month, {amount} each time.",
            "My card payment keeps failing with error {error}.",
            "Can you send me an invoice for {date} with our VAT number?",
            "Why did my bill go up to {amount}? Nothing changed on our side.",
            "Please update the card on file, the old one expired.",
            "I don't recognise this {amount} charge on my statement.",
            "Can we switch from monthly to annual billing?",
        ),
        "follow": ("So when will the double charge be reversed?", "The invoice is missing our company name.",
                   "The payment failed again just now."),
        "agent": (
            "You're right, there was a duplicate charge of {amount}; I've reversed it today.",
            "I've attached the invoice for {date}; you can download all invoices from the billing page.",
            "The increase is the new seat you added on {date}; the breakdown is on your latest invoice.",
        ),
    },
    "complaint": {
        "subject": ("Complaint", "Very unhappy", "Terrible service", "Formal complaint"),
        "first": (
            "This is the third time I'm contacting you about the same problem and nobody helps.",
            "Your agent hung up on me. I expect a call back from a manager.",
            "I've waited {days} days for an answer. This is unacceptable.",
            "The {product} broke again and your support is useless.",
            "I'm extremely disappointed with how my case was handled.",
            "You keep promising things and never deliver. I want to speak to someone senior.",
            "Worst customer experience I've had. Nobody reads my emails.",
        ),
        "follow": ("Still waiting. Nobody has called.", "This is ridiculous, I'm considering legal action.",
                   "I don't want another apology, I want it fixed."),
        "agent": (
            "I'm truly sorry for the experience. I've escalated your case to our team lead, who will call you.",
            "You're right to be frustrated. I've taken ownership of this and will update you by {date}.",
            "I apologise for the delays. As a gesture, I've applied a {amount} credit to your account.",
        ),
    },
    "feedback_praise": {
        "subject": ("Thank you!", "Feedback", "Suggestion for {feature}", "Great service"),
        "first": (
            "Just wanted to say {agent} was incredibly helpful yesterday. Thank you!",
            "Love the new {feature}, it saves me so much time.",
            "Suggestion: it would be great if {feature} worked offline.",
            "The {product} is fantastic, best purchase this year.",
            "Your support team always responds quickly, really appreciate it.",
            "Small feedback: the new menu is a bit confusing, but overall great update.",
        ),
        "follow": ("Thanks again!", "Happy to help test it."),
        "agent": (
            "Thank you so much for the kind words, I'll share them with {agent} and the team!",
            "Thanks for the suggestion; I've passed it to our product team.",
            "That made our day, thanks for taking the time to write!",
        ),
    },
}

TEXT: dict[str, tuple[str, ...]] = {f"{kind}.{rt}": v for rt, d in _T.items() for kind, v in d.items()}
TEXT.update({
    "open.neutral": ("", "Hi!", "Hello!", "Hi there!", "Good morning!", "Hello team!", "Hi."),
    "open.negative": ("", "Hi.", "Hello."),
    "open.positive": ("Hi!", "Hello!", "Hi team!"),
    "emotion.negative": (
        "I'm really frustrated.", "This is not acceptable.", "Honestly I'm very disappointed.",
        "I've had enough of this.", "This is the second time this happens.", "Very annoying.",
        "I'm losing my patience.", "Seriously considering switching to a competitor.",
    ),
    "emotion.positive": ("Thanks a lot!", "Really appreciate it.", "You guys are great.", "Love your service!"),
    "emotion.neutral": ("", "", "Thanks.", "Thanks in advance.", "Best regards.", "Cheers."),
    "follow.generic": ("Any update?", "Thanks, that worked.", "Ok, I'll try that.", "Here are the details you asked for.",
                       "I replied to your email yesterday.", "Sorry, I didn't see your message."),
    "follow.negative": ("Still not solved.", "Why is this taking so long?", "Nobody got back to me.",
                        "I already told you this twice.", "This didn't work either."),
    "agent.follow": (
        "Thanks {name}, I've checked and everything is in order now.",
        "Following up: is there anything else I can help with?",
        "Thanks for confirming. I've updated your case.",
        "I've checked with the team and this is now fixed on our side.",
        "Could you send a screenshot so I can look into it?",
        "Apologies for the wait, {name}. I'm still looking into this and will update you soon.",
    ),
    "agent.greet": ("Hi {name},", "Hello {name},", "Hi {name}, thanks for reaching out.", "Thanks for contacting us, {name}."),
    "agent.sign": ("Best, {agent}", "Kind regards, {agent}", "- {agent}", "Cheers, {agent}", "{agent} | Support"),
    "bot": (
        "Hi! I'm the virtual assistant. An agent will be with you shortly.",
        "Thanks for your message. While you wait, our help centre may have the answer.",
        "I can help with orders, returns and billing. Type 'agent' to talk to a person.",
        "You're in the queue. Estimated wait: under 2 minutes.",
    ),
    "bot.selfservice": (
        "Here's an article that answers this: {feature} - step by step. Did that solve your question?",
        "Your order {order} is on its way with {carrier}. Anything else?",
        "I've sent the password reset link to your email. Anything else I can do?",
    ),
    "customer.selfservice": ("Yes, thanks!", "That's all, thank you.", "Perfect, solved."),
    "system": ("We've received your request {ticket}. We usually reply within one business day.",
               "Ticket {ticket} was assigned to the support queue.", "Call connected.", "Chat started.",
               "Ticket {ticket} was marked as solved.", "Customer reopened the ticket."),
    "note": ("Checked order history, looks like a carrier issue.", "Escalated to tier 2.",
             "Customer is on the {plan} plan, VIP handling.", "Refund approved by team lead.",
             "Known issue, linked to incident {error}.", "Called back, no answer. Left voicemail."),
    "phone.first": ("[call transcript] Customer: ", "[call summary] "),
    "agent.close": ("Glad we could sort this out. Have a great day!", "I'll close this ticket now; just reply if you need anything else.",
                    "Happy to help. Take care!"),
})

MENTIONS: dict[str, tuple[str, ...]] = {
    "question": (
        "@{brand} does the {product} work with {device}?", "Hey @{brand}, when is the {product} back in stock?",
        "@{brand} how do I cancel my {plan} plan?", "Anyone know if @{brand} ships to {city}?",
        "@{brand} is {feature} down right now?", "@{brand} can I change the address on order {order}?",
    ),
    "complaint": (
        "@{brand} my order {order} is {days} days late and nobody answers. Awful.",
        "Seriously @{brand}, error {error} again?? Fix your app.",
        "@{brand} charged me twice and support ignores me. Never again.",
        "The {product} from @{brand} broke after a week. Waste of money.",
        "@{brand} worst customer service ever, waited {days} days for a reply",
    ),
    "praise": (
        "Shoutout to @{brand} support, {agent} fixed my issue in minutes!", "Loving my new {product} from @{brand}",
        "@{brand} the new {feature} is brilliant, thank you!", "Fast delivery to {city}, thanks @{brand}",
    ),
    "neutral": (
        "Just ordered the {product} from @{brand}, let's see.", "@{brand} new {feature} update rolling out today",
        "Comparing @{brand} with other brands for a {product}, thoughts?", "Unboxing the {product} from @{brand} later",
    ),
    "reply": ("Same here!", "Had the same problem last week.", "Agreed.", "Try restarting it, worked for me.",
              "Did they ever answer you?", "+1"),
    "brand_reply": ("Hi! Sorry to hear that. Please DM us your order number and we'll look into it.",
                    "Thanks for the love!", "We're on it, please check your DMs."),
}


@lru_cache(maxsize=4096)
def _parse(template: str) -> tuple[tuple[str, str | None], ...]:
    return tuple((lit, field) for lit, field, _, _ in Formatter().parse(template))


def _fill(template: str, slots: dict[str, np.ndarray], rows: np.ndarray) -> np.ndarray:
    out = np.full(len(rows), "", dtype=object)
    for literal, field in _parse(template):
        if literal:
            out = out + literal
        if field is not None:
            out = out + slots[field][rows]
    return out


def render(rng: np.random.Generator, pools: list[tuple[str, ...]], which: np.ndarray,
           slots: dict[str, np.ndarray], slot_rows: np.ndarray) -> np.ndarray:
    """Per row ``i``: a random template of ``pools[which[i]]`` filled from ``slots[name][slot_rows[i]]``.

    Vectorised: one numpy string concatenation per template part, no loop over rows.
    """
    out = np.full(len(which), "", dtype=object)
    choice = rng.random(len(which))
    for p, pool in enumerate(pools):
        rows = np.flatnonzero(which == p)
        if not rows.size or not pool:
            continue
        pick = (choice[rows] * len(pool)).astype(int)
        for i, template in enumerate(pool):
            r = rows[pick == i]
            if r.size:
                out[r] = _fill(template, slots, slot_rows[r])
    return out
