namespace BillingConsole.Api;

/// <summary>
/// For the routes programs call (<see cref="ApiProblems.IsForPrograms"/>): a failure becomes a problem in every environment.
/// A failure the caller can act on gets its own status (<see cref="ApiProblems.For"/>); anything else is a 500 that says
/// nothing of the exception, which is logged instead. The developer exception page never answers here: it echoes the
/// request's headers, the API key among them.
/// </summary>
public sealed class ErrorsAsProblems(RequestDelegate next, ILogger<ErrorsAsProblems> logger)
{
    public const string UnexpectedMessage = "The request failed on the server and the failure is logged; retry later.";

    public async Task InvokeAsync(HttpContext context)
    {
        try
        {
            await next(context);
        }
        catch (Exception e) when (!context.Response.HasStarted)
        {
            var problem = ApiProblems.For(e);
            if (problem is null) logger.LogError(e, "Unhandled failure on {Method} {Path}", context.Request.Method, context.Request.Path);
            context.Response.Clear();
            await (problem ?? ApiProblems.Status(StatusCodes.Status500InternalServerError, UnexpectedMessage)).ExecuteAsync(context);
        }
    }
}
