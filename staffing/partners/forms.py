"""HTML forms of the partners domain; Flask-WTF adds and checks the CSRF token."""

from flask_wtf import FlaskForm
from wtforms import EmailField, PasswordField
from wtforms.validators import DataRequired, EqualTo, Length


class LoginForm(FlaskForm):
    email = EmailField("Email", validators=[DataRequired(), Length(max=254)])
    password = PasswordField("Password", validators=[DataRequired(), Length(max=1024)])


class PasswordForm(FlaskForm):
    """The policy itself is the API's (security.password_problem), checked by the operation."""

    current_password = PasswordField("Current password",
                                     validators=[DataRequired(), Length(max=1024)])
    new_password = PasswordField("New password", validators=[DataRequired(), Length(max=200)])
    repeat_password = PasswordField("New password again", validators=[
        DataRequired(), EqualTo("new_password", message="the two new passwords differ")])


class EndSessionsForm(FlaskForm):
    """A button with its CSRF token."""
