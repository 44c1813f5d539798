// An SMS channel and a voice channel on two phone numbers, and a webhook on the SMS channel's updates: the
// stack of examples/channels, with the SDK that `pulumi package add` generates from the bird plugin's schema.
import * as pulumi from "@pulumi/pulumi";
import * as bird from "@pulumi/bird";

const config = new pulumi.Config();

// The numbers by their E.164 text (+3197010520000), looked up in the workspace with Bird's Numbers API by the
// plugin's getPhoneNumber: no number ids to paste.
const smsPhone = bird.getPhoneNumberOutput({ number: config.require("smsNumber") });
const voicePhone = bird.getPhoneNumberOutput({ number: config.require("voiceNumber") });

const sms = new bird.SmsChannel("sms", {
    phoneNumberId: smsPhone.id,
    // The schema's enum: check refuses a value outside it (at preview), the cast tells the compiler so.
    channelMessageType: (config.get("smsMessageType") ?? "transactional") as bird.ChannelMessageType,
    useCaseId: config.get("smsUseCaseId"),
    conversational: true,
});

const voice = new bird.VoiceChannel("voice", { phoneNumberId: voicePhone.id });

// Optional: unset means "no signing key"; when set it is a secret.
const updates = new bird.WebhookSubscription("sms-channel-updates", {
    service: "channels",
    event: "channel.updated",
    url: config.get("webhookUrl") ?? "https://hooks.example.com/bird/channel-updated",
    signingKey: config.getSecret("webhookSigningKey"),
    // The channel id is known once the SMS channel is active: the subscription waits for it.
    eventFilters: [{ key: "channelId", value: sms.channelId }],
});

export const smsChannelId = sms.channelId;
export const smsConnectorId = sms.connectorId;
export const smsPhoneNumber = sms.phoneNumber;
export const voiceChannelId = voice.channelId;
export const voiceConnectorId = voice.connectorId;
export const webhookSubscriptionId = updates.id;
