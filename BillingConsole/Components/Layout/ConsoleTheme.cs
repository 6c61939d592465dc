using MudBlazor;

namespace BillingConsole.Components.Layout;

public static class ConsoleTheme
{
    public static readonly MudTheme Theme = new()
    {
        PaletteLight = new PaletteLight
        {
            Primary = "#1f4e79",
            Secondary = "#2e7d32",
            AppbarBackground = "#17324d",
            DrawerBackground = "#f7f9fc",
            Background = "#f3f5f8",
            Success = "#2e7d32",
            Warning = "#b26a00",
            Error = "#c62828",
        },
        Typography = new Typography
        {
            Default = new DefaultTypography { FontFamily = ["Inter", "Segoe UI", "Roboto", "Helvetica Neue", "Arial", "sans-serif"] },
        },
        LayoutProperties = new LayoutProperties { DrawerWidthLeft = "232px" },
    };
}
