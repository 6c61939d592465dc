using BillingConsole.Api.Webhooks;

namespace BillingConsole.Extensions;

public static class WebhookExtensions
{
    /// <summary>Gateway webhooks: their validated options ("Gateway:Webhooks").</summary>
    public static IHostApplicationBuilder AddGatewayWebhooks(this IHostApplicationBuilder builder)
    {
        builder.Services.AddOptions<WebhookOptions>().BindConfiguration(WebhookOptions.Section).ValidateDataAnnotations().ValidateOnStart();
        return builder;
    }

    /// <summary>POST /hooks/{gateway}.</summary>
    public static WebApplication MapGatewayWebhooks(this WebApplication app)
    {
        app.MapWebhookEndpoints();
        return app;
    }
}
