; Inno Setup script: installs the PyInstaller folder (dist\packdesk) per machine, with Start-menu and
; desktop shortcuts. Upgrades in place (same AppId); the user's data, settings, logs and videos live in the
; per-user folders (platformdirs) or a --data-dir, never in the install folder, so an upgrade or an
; uninstall leaves them alone.
; Build on Windows after scripts\build-bundle (pyinstaller installer\packdesk.spec):
;   iscc /DAppVersion=0.1.0 installer\packdesk.iss
; Not compiled on the Linux build machine (no Inno Setup there).

#ifndef AppVersion
  #define AppVersion "0.1.0"
#endif

[Setup]
; never change the AppId: it is how an upgrade finds the installed PackDesk
AppId={{6C4E9133-2AF0-4CC6-836B-63B6BC660CF5}
AppName=PackDesk
AppVersion={#AppVersion}
AppPublisher=PackDesk
DefaultDirName={autopf}\PackDesk
DefaultGroupName=PackDesk
PrivilegesRequired=admin
ArchitecturesInstallIn64BitMode=x64compatible
OutputBaseFilename=PackDesk-{#AppVersion}-setup
Compression=lzma2
SolidCompression=yes
CloseApplications=yes
UninstallDisplayIcon={app}\packdesk.exe
SetupIconFile=..\resources\icons\packdesk.ico
; GPL-3.0-or-later, shown on the installer's licence page
LicenseFile=..\LICENSE

[Languages]
Name: "korean"; MessagesFile: "compiler:Languages\Korean.isl"
Name: "english"; MessagesFile: "compiler:Default.isl"

[Tasks]
Name: "desktopicon"; Description: "{cm:CreateDesktopIcon}"; GroupDescription: "{cm:AdditionalIcons}"

[Files]
Source: "..\dist\packdesk\*"; DestDir: "{app}"; Flags: ignoreversion recursesubdirs createallsubdirs
; the licence and every bundled component's licence and notices (written by installer\packdesk.spec), beside
; the program as well as inside the bundle, where Help -> About reads them
Source: "..\LICENSE"; DestDir: "{app}"; Flags: ignoreversion
Source: "..\build\THIRD-PARTY-NOTICES"; DestDir: "{app}"; Flags: ignoreversion

[InstallDelete]
; an upgrade replaces the program files only (old bundled libraries must not linger)
Type: filesandordirs; Name: "{app}\_internal"

[Icons]
Name: "{group}\PackDesk"; Filename: "{app}\packdesk.exe"
Name: "{group}\PackDesk 녹화 검증 (verify)"; Filename: "{app}\packdesk.exe"; Parameters: "verify"
; the two texts have no extension: opened in Notepad
Name: "{group}\라이선스 (Licence)"; Filename: "{win}\notepad.exe"; Parameters: """{app}\LICENSE"""
Name: "{group}\제3자 고지 (Third-party notices)"; Filename: "{win}\notepad.exe"; Parameters: """{app}\THIRD-PARTY-NOTICES"""
Name: "{autodesktop}\PackDesk"; Filename: "{app}\packdesk.exe"; Tasks: desktopicon

[Run]
Filename: "{app}\packdesk.exe"; Description: "{cm:LaunchProgram,PackDesk}"; Flags: nowait postinstall skipifsilent
